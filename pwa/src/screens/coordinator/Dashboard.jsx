/** Coordinator: team counts from the data on this device. */
import { Page, Section } from '../../components/Page.jsx';
import { useLive } from '../../lib/hooks.js';
import { all, isToday, latestByPatient } from '../../lib/queries.js';
import { fallsResultOf } from '../../lib/instruments.js';
import { localDate } from '../../lib/format.js';
import { SEVERITY } from '../../lib/labels.js';

export async function teamCounts(now = new Date()) {
  const [escalations, visits, patients, falls] = await Promise.all([
    all('escalation'), all('visit'), all('patient'), latestByPatient('falls_assessment', 'assessed_at'),
  ]);
  const open = escalations.filter((e) => e.data.status === 'open');
  const bySeverity = Object.fromEntries(Object.keys(SEVERITY).map((s) => [s, open.filter((e) => e.data.severity === s).length]));
  const today = localDate(now);
  const live = visits.filter((v) => v.data.status !== 'cancelled');
  const overdue = live.filter((v) => v.data.status === 'scheduled' && v.data.scheduled_end && new Date(v.data.scheduled_end) < now);
  const highRisk = patients.filter((p) => {
    const latest = falls.get(p.id);
    const result = latest && fallsResultOf(latest);
    return result && result.risk_level === 'high';
  });
  return {
    openEscalations: open.length,
    bySeverity,
    acknowledged: escalations.filter((e) => e.data.status === 'acknowledged').length,
    highRisk: highRisk.length,
    patients: patients.length,
    visitsToday: live.filter((v) => isToday(v.data.scheduled_start, today)).length,
    completedToday: live.filter((v) => isToday(v.data.scheduled_start, today) && v.data.status === 'completed').length,
    overdue: overdue.length,
    unsigned: live.filter((v) => ['completed', 'no_access'].includes(v.data.status) && !v.data.signed_at).length,
  };
}

function Stat({ label, value, href }) {
  const body = <><span class="stat__value">{value}</span><span class="stat__label">{label}</span></>;
  return <li class="stat">{href ? <a href={href}>{body}</a> : body}</li>;
}

export function Dashboard() {
  const c = useLive(() => teamCounts(), [], null);
  if (!c) return <Page title="Team dashboard"><p>Loading…</p></Page>;
  return (
    <Page title="Team dashboard" lead="Counts from the records on this device, as of the last sync.">
      <Section title="Open escalations" id="escalations">
        <ul class="stats">
          <Stat label="open escalations" value={c.openEscalations} href="/escalations" />
          <Stat label="emergency" value={c.bySeverity.emergency} href="/escalations" />
          <Stat label="urgent" value={c.bySeverity.urgent} href="/escalations" />
          <Stat label="routine" value={c.bySeverity.routine} href="/escalations" />
          <Stat label="acknowledged, not resolved" value={c.acknowledged} />
        </ul>
      </Section>
      <Section title="Patients" id="patients">
        <ul class="stats">
          <Stat label="patients on the caseload" value={c.patients} href="/caseload" />
          <Stat label="high falls risk (latest stratification)" value={c.highRisk} href="/caseload" />
        </ul>
      </Section>
      <Section title="Visits" id="visits">
        <ul class="stats">
          <Stat label="visits today" value={c.visitsToday} />
          <Stat label="completed today" value={c.completedToday} />
          <Stat label="overdue (still scheduled after their end time)" value={c.overdue} />
          <Stat label="finished but not signed" value={c.unsigned} />
        </ul>
      </Section>
    </Page>
  );
}
