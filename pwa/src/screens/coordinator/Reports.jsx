/**
 * Coordinator: the reports (caseload by falls risk and activation, escalations and time
 * to acknowledge, visits) over the last 12 weeks, fetched from the server when online —
 * they count the whole team's records, which this device may not all hold — with CSV
 * downloads. Definitions: docs/reports.md.
 */
import { useEffect, useState } from 'preact/hooks';
import { Page, Section, Notice } from '../../components/Page.jsx';
import { FallsRiskMix, ActivationMix, OptOutNote, EscalationsRaised, VisitsPerWeek } from '../../components/ReportCharts.jsx';
import { useReports, downloadCsv } from '../../lib/reports.js';
import { formatDateTime } from '../../lib/format.js';

export function ReportState({ state, what = 'Reports' }) {
  if (state.status === 'offline') {
    return (
      <Notice kind="warning">
        {what} need a connection: they are worked out on the server from all of the team’s records. Connect to the internet and they will load.{' '}
        <button type="button" class="linkbutton" onClick={state.retry}>Try again</button>
      </Notice>
    );
  }
  if (state.status === 'error') {
    return <Notice kind="error">{what} could not be loaded: {state.error.message} <button type="button" class="linkbutton" onClick={state.retry}>Try again</button></Notice>;
  }
  return <p>Loading {what.toLowerCase()}…</p>;
}

function CsvButton({ name, teamId, label }) {
  const [problem, setProblem] = useState(null);
  const download = () => {
    setProblem(null);
    downloadCsv(name, teamId).catch((err) => setProblem(err.message));
  };
  return (
    <>
      <button type="button" class="button button--secondary button--small" onClick={download}>Download {label} (CSV)</button>
      {problem ? <Notice kind="error">{problem}</Notice> : null}
    </>
  );
}

function TeamPicker({ teams, value, onChange }) {
  if (!teams || teams.length < 2) return null;
  return (
    <div class="field narrow">
      <label for="report-team">Team</label>
      <select id="report-team" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All my teams</option>
        {teams.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
      </select>
    </div>
  );
}

export function Reports() {
  const [teamId, setTeamId] = useState('');
  const [allTeams, setAllTeams] = useState(null);
  const state = useReports(teamId);
  const data = state.data;
  // The picker lists every team of the first (all-teams) answer, also once one is chosen.
  useEffect(() => { if (data && !teamId && !allTeams) setAllTeams(data.caseload.teams); }, [data]);
  const teams = allTeams || (data && data.caseload.teams);
  return (
    <Page title="Reports" lead="The last 12 weeks, Monday to Sunday, UK time. Worked out on the server from all of your team’s records." wide>
      <TeamPicker teams={teams} value={teamId} onChange={setTeamId} />
      {state.status !== 'ready' ? <ReportState state={state} /> : (
        <>
          <p class="hint">
            {data.caseload.teams.map((t) => t.name).join(', ')} — as of {formatDateTime(data.caseload.generated_at)}.
          </p>
          <Section title="Caseload by falls risk" id="falls">
            <OptOutNote report={data.caseload} />
            <FallsRiskMix report={data.caseload} />
          </Section>
          <Section title="Caseload by activation level" id="activation">
            <ActivationMix report={data.caseload} />
            <div class="actions"><CsvButton name="caseload" teamId={teamId} label="caseload report" /></div>
          </Section>
          <Section title="Escalations" id="escalations">
            <EscalationsRaised report={data.escalations} />
            <div class="actions"><CsvButton name="escalations" teamId={teamId} label="escalations report" /></div>
          </Section>
          <Section title="Visits" id="visits">
            <VisitsPerWeek report={data.visits} />
            <div class="actions"><CsvButton name="visits" teamId={teamId} label="visits report" /></div>
          </Section>
        </>
      )}
    </Page>
  );
}
