/**
 * Coordinator: the team dashboard. Today's counts come from the records on this device
 * (so they work offline) and each opens the list behind it (/dashboard/{list}); the
 * trends over the last weeks come from the reports API when online (one definition of
 * every weekly number: the server's, see docs/reports.md).
 */
import { Page, Section, Empty } from '../../components/Page.jsx';
import { FallsBadge, SeverityBadge } from '../../components/Badge.jsx';
import { FallsRiskMix, ActivationMix, EscalationsRaised, VisitsPerWeek } from '../../components/ReportCharts.jsx';
import { useLive } from '../../lib/hooks.js';
import { all, isToday, latestByPatient } from '../../lib/queries.js';
import { fallsResultOf } from '../../lib/instruments.js';
import { localDate, fullName, formatDateTime, formatNhsNumber } from '../../lib/format.js';
import { SEVERITY, RULE, VISIT_STATUS, label } from '../../lib/labels.js';
import { inRiskReports, useReports } from '../../lib/reports.js';
import { ReportState } from './Reports.jsx';

/** The records behind each dashboard number, from this device's copy. */
export async function teamLists(now = new Date()) {
  const [escalations, visits, patients, falls] = await Promise.all([
    all('escalation'), all('visit'), all('patient'), latestByPatient('falls_assessment', 'assessed_at'),
  ]);
  const open = escalations.filter((e) => e.data.status === 'open');
  const today = localDate(now);
  const live = visits.filter((v) => v.data.status !== 'cancelled');
  const todays = live.filter((v) => isToday(v.data.scheduled_start, today));
  const highRisk = patients.filter((p) => {
    const latest = falls.get(p.id);
    const result = latest && fallsResultOf(latest);
    return inRiskReports(p) && result && result.risk_level === 'high';
  });
  return {
    patientsById: new Map(patients.map((p) => [p.id, p])),
    open,
    bySeverity: Object.fromEntries(Object.keys(SEVERITY).map((s) => [s, open.filter((e) => e.data.severity === s)])),
    acknowledged: escalations.filter((e) => e.data.status === 'acknowledged'),
    highRisk,
    patients,
    visitsToday: todays,
    completedToday: todays.filter((v) => v.data.status === 'completed'),
    overdue: live.filter((v) => v.data.status === 'scheduled' && v.data.scheduled_end && new Date(v.data.scheduled_end) < now),
    unsigned: live.filter((v) => ['completed', 'no_access'].includes(v.data.status) && !v.data.signed_at),
  };
}

export async function teamCounts(now = new Date()) {
  const lists = await teamLists(now);
  return {
    openEscalations: lists.open.length,
    bySeverity: Object.fromEntries(Object.entries(lists.bySeverity).map(([s, items]) => [s, items.length])),
    acknowledged: lists.acknowledged.length,
    highRisk: lists.highRisk.length,
    patients: lists.patients.length,
    visitsToday: lists.visitsToday.length,
    completedToday: lists.completedToday.length,
    overdue: lists.overdue.length,
    unsigned: lists.unsigned.length,
  };
}

// /dashboard/{list}: [title, which records, what kind they are]
const LISTS = {
  open: ['Open escalations', (l) => l.open, 'escalation'],
  emergency: ['Open emergency escalations', (l) => l.bySeverity.emergency, 'escalation'],
  urgent: ['Open urgent escalations', (l) => l.bySeverity.urgent, 'escalation'],
  routine: ['Open routine escalations', (l) => l.bySeverity.routine, 'escalation'],
  acknowledged: ['Escalations acknowledged, not resolved', (l) => l.acknowledged, 'escalation'],
  'high-risk': ['Patients at high falls risk', (l) => l.highRisk, 'patient'],
  'visits-today': ['Visits today', (l) => l.visitsToday, 'visit'],
  'completed-today': ['Visits completed today', (l) => l.completedToday, 'visit'],
  overdue: ['Overdue visits', (l) => l.overdue, 'visit'],
  unsigned: ['Visits finished but not signed', (l) => l.unsigned, 'visit'],
};

function Stat({ label: text, value, list }) {
  const body = <><span class="stat__value">{value}</span><span class="stat__label">{text}</span></>;
  return <li class="stat">{list ? <a href={`/dashboard/${list}`}>{body}</a> : body}</li>;
}

function Item({ record, kind, patients }) {
  const patient = patients.get(kind === 'patient' ? record.id : record.patient_id);
  const name = fullName(patient);
  if (kind === 'patient') {
    return <li><a href={`/patients/${record.id}`}>{name}</a> <span class="hint">NHS {formatNhsNumber(record.data.nhs_number)}</span> <FallsBadge level="high" /></li>;
  }
  if (kind === 'escalation') {
    return <li><a href={`/escalations/${record.id}`}>{name}: {label(RULE, record.data.rule)}</a> <SeverityBadge severity={record.data.severity} /></li>;
  }
  return <li><a href={`/visits/${record.id}`}>{name}, {formatDateTime(record.data.scheduled_start)}</a> <span class="hint">{label(VISIT_STATUS, record.data.status)}</span></li>;
}

function DashboardList({ list }) {
  const lists = useLive(() => teamLists(), [], null);
  const found = LISTS[list];
  if (!found) return <Page title="Page not found"><p>There is no such list. <a href="/dashboard">Back to the dashboard</a>.</p></Page>;
  const [title, pick, kind] = found;
  if (!lists) return <Page title={title}><p>Loading…</p></Page>;
  const items = pick(lists);
  return (
    <Page title={title} lead={`${items.length} from the records on this device. `}>
      <p><a href="/dashboard">Back to the dashboard</a></p>
      {items.length ? <ul class="plain">{items.map((r) => <Item key={r.id} record={r} kind={kind} patients={lists.patientsById} />)}</ul> : <Empty>None.</Empty>}
    </Page>
  );
}

function Trends() {
  const state = useReports('');
  if (state.status !== 'ready') return <ReportState state={state} what="Trends" />;
  const { caseload, escalations, visits } = state.data;
  return (
    <>
      <p><a href="/reports">All reports, with this week’s numbers and CSV downloads</a></p>
      <div class="report-grid">
        <Section title="Escalations raised and time to acknowledge" id="trend-escalations" level={3}><EscalationsRaised report={escalations} compact /></Section>
        <Section title="Visits completed and no access" id="trend-visits" level={3}><VisitsPerWeek report={visits} compact /></Section>
        <Section title="Falls risk mix" id="trend-falls" level={3}><FallsRiskMix report={caseload} compact /></Section>
        <Section title="Activation mix" id="trend-activation" level={3}><ActivationMix report={caseload} compact /></Section>
      </div>
    </>
  );
}

export function Dashboard({ list }) {
  const c = useLive(() => teamCounts(), [], null);
  if (list) return <DashboardList list={list} />;
  if (!c) return <Page title="Team dashboard"><p>Loading…</p></Page>;
  return (
    <Page title="Team dashboard" lead="Counts from the records on this device, as of the last sync. Each number opens its list.">
      <Section title="Open escalations" id="escalations">
        <ul class="stats">
          <Stat label="open escalations" value={c.openEscalations} list="open" />
          <Stat label="emergency" value={c.bySeverity.emergency} list="emergency" />
          <Stat label="urgent" value={c.bySeverity.urgent} list="urgent" />
          <Stat label="routine" value={c.bySeverity.routine} list="routine" />
          <Stat label="acknowledged, not resolved" value={c.acknowledged} list="acknowledged" />
        </ul>
      </Section>
      <Section title="Patients" id="patients">
        <ul class="stats">
          <li class="stat"><a href="/caseload"><span class="stat__value">{c.patients}</span><span class="stat__label">patients on the caseload</span></a></li>
          <Stat label="high falls risk (latest stratification; risk opt-outs left out)" value={c.highRisk} list="high-risk" />
        </ul>
      </Section>
      <Section title="Visits" id="visits">
        <ul class="stats">
          <Stat label="visits today" value={c.visitsToday} list="visits-today" />
          <Stat label="completed today" value={c.completedToday} list="completed-today" />
          <Stat label="overdue (still scheduled after their end time)" value={c.overdue} list="overdue" />
          <Stat label="finished but not signed" value={c.unsigned} list="unsigned" />
        </ul>
      </Section>
      <Section title="Trends over the last 12 weeks" id="trends">
        <Trends />
      </Section>
    </Page>
  );
}
