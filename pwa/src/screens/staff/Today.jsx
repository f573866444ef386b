/**
 * Nurse: my visits on a day (today unless ?date=YYYY-MM-DD), in time order, with the
 * patient's address, the visit type and status; overdue, missed and no-access visits
 * are marked in words and a shape. Other days by yesterday / tomorrow links or a date.
 */
import { Page, Empty } from '../../components/Page.jsx';
import { StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { TextField } from '../../components/fields.jsx';
import { useLive, useTicker } from '../../lib/hooks.js';
import { all, sortOldest } from '../../lib/queries.js';
import { navigate, queryParam } from '../../lib/router.js';
import { visitTiming } from '../../lib/visits.js';
import { formatTime, formatDay, fullName, localDate, addDays } from '../../lib/format.js';
import { VISIT_TYPE, VISIT_STATUS, label } from '../../lib/labels.js';

const TIMING = {
  missed: { shape: '▲', text: 'Missed: not started 2 hours after its end' },
  overdue: { shape: '◆', text: 'Overdue: past its booked time' },
};

async function visitsOn(userId, day) {
  const [visits, patients, escalations] = await Promise.all([all('visit'), all('patient'), all('escalation')]);
  const mine = visits.filter((v) => v.data.assigned_to === userId && v.data.status !== 'cancelled'
    && v.data.scheduled_start && localDate(new Date(v.data.scheduled_start)) === day);
  const byPatient = new Map(patients.map((p) => [p.id, p]));
  return sortOldest(mine, 'scheduled_start').map((visit) => ({
    visit, patient: byPatient.get(visit.patient_id), timing: visitTiming(visit, escalations.filter((e) => e.patient_id === visit.patient_id)),
  }));
}

export function daySummary(rows) {
  const count = (fn) => rows.filter(fn).length;
  const parts = [
    [count((r) => r.visit.data.status === 'completed'), 'completed'],
    [count((r) => r.visit.data.status === 'in_progress'), 'in progress'],
    [count((r) => r.visit.data.status === 'no_access'), 'no access'],
    [count((r) => r.timing === 'missed'), 'missed'],
    [count((r) => r.timing === 'overdue'), 'overdue'],
    [count((r) => r.visit.data.status === 'scheduled' && !r.timing), 'to do'],
  ].filter(([n]) => n > 0);
  return `${rows.length} visit${rows.length === 1 ? '' : 's'}${parts.length ? `: ${parts.map(([n, t]) => `${n} ${t}`).join(', ')}` : ''}.`;
}

function DayNav({ day, today }) {
  const href = (d) => (d === today ? '/today' : `/today?date=${d}`);
  return (
    <nav aria-label="Other days" class="daynav">
      <a class="button button--secondary" href={href(addDays(day, -1))}><span aria-hidden="true">‹ </span>{day === today ? 'Yesterday' : 'Previous day'}</a>
      {day !== today ? <a class="button button--secondary" href="/today">Today</a> : null}
      <a class="button button--secondary" href={href(addDays(day, 1))}>{day === today ? 'Tomorrow' : 'Next day'}<span aria-hidden="true"> ›</span></a>
      <TextField name="day" type="date" label="Go to a date" value={day} markOptional={false}
        onInput={(value) => { if (/^\d{4}-\d\d-\d\d$/.test(value)) navigate(href(value)); }} />
    </nav>
  );
}

function VisitRow({ visit, patient, timing }) {
  const v = visit.data;
  const p = patient ? patient.data : null;
  const marked = timing ? TIMING[timing] : null;
  const noAccess = v.status === 'no_access';
  return (
    <li class={`card visit-row${marked ? ` visit-row--${timing}` : ''}${noAccess ? ' visit-row--no_access' : ''}`}>
      <a class="card__link" href={`/visits/${visit.id}`}>
        <span class="card__title">{formatTime(v.scheduled_start)}–{formatTime(v.scheduled_end)} · {patient ? fullName(patient) : 'Patient not on this device'}</span>
      </a>
      <p class="card__meta">{label(VISIT_TYPE, v.visit_type)}{p ? ` · ${[p.address, p.postcode].filter(Boolean).join(', ')}` : ''}</p>
      {p && p.access_notes ? <p class="card__meta">Access: {p.access_notes}</p> : null}
      <p class="card__badges">
        <StatusBadge status={v.status} table={VISIT_STATUS} />
        {marked ? <span class={`badge badge--timing-${timing}`}><span aria-hidden="true">{marked.shape} </span>{marked.text}</span> : null}
        <PendingBadge record={visit} />
      </p>
    </li>
  );
}

export function Today({ user }) {
  useTicker(60_000); // overdue and missed change with the clock, not only with the data
  const today = localDate();
  const asked = queryParam('date');
  const day = asked && /^\d{4}-\d\d-\d\d$/.test(asked) ? asked : today;
  const loaded = useLive(async () => ({ day, rows: await visitsOn(user.id, day) }), [user.id, day], null);
  const rows = loaded && loaded.day === day ? loaded.rows : null; // never the previous day's list under this day's title
  const title = day === today ? 'Today' : formatDay(day);
  return (
    <Page title={title} lead={`Your visits on ${formatDay(day)}.`}
      actions={<a class="button" href="/caseload?book=visit">Book a visit</a>}>
      <DayNav day={day} today={today} />
      {rows === null ? <p>Loading…</p> : rows.length === 0 ? (
        <Empty>{/* empty-state: "desk" replaces this line with first-sync wording */ `No visits booked for you on ${formatDay(day)}.`}</Empty>
      ) : (
        <>
          <p class="day-summary" aria-live="polite">{daySummary(rows)}</p>
          <ol class="cards">{rows.map((row) => <VisitRow key={row.visit.id} {...row} />)}</ol>
        </>
      )}
    </Page>
  );
}
