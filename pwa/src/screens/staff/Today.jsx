/** Nurse: my visits today, in time order, with their patient and status. */
import { Page, Empty } from '../../components/Page.jsx';
import { StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { useLive } from '../../lib/hooks.js';
import { all, isToday, sortOldest } from '../../lib/queries.js';
import { formatTime, formatDay, fullName, localDate } from '../../lib/format.js';
import { VISIT_TYPE, VISIT_STATUS, label } from '../../lib/labels.js';

async function todaysVisits(userId) {
  const today = localDate();
  const visits = (await all('visit')).filter((v) => v.data.assigned_to === userId && isToday(v.data.scheduled_start, today) && v.data.status !== 'cancelled');
  const patients = new Map((await all('patient')).map((p) => [p.id, p]));
  return sortOldest(visits, 'scheduled_start').map((visit) => ({ visit, patient: patients.get(visit.patient_id) }));
}

export function Today({ user }) {
  const rows = useLive(() => todaysVisits(user.id), [user.id], null);
  return (
    <Page title="Today" lead={`Your visits on ${formatDay(new Date().toISOString())}.`}>
      {rows === null ? <p>Loading…</p> : rows.length === 0 ? <Empty>No visits booked for you today.</Empty> : (
        <ol class="cards">
          {rows.map(({ visit, patient }) => (
            <li class="card" key={visit.id}>
              <a class="card__link" href={`/visits/${visit.id}`}>
                <span class="card__title">{formatTime(visit.data.scheduled_start)}–{formatTime(visit.data.scheduled_end)} · {patient ? fullName(patient) : 'Patient not on this device'}</span>
              </a>
              <p class="card__meta">
                {label(VISIT_TYPE, visit.data.visit_type)}
                {patient && patient.data.postcode ? ` · ${patient.data.postcode}` : ''}
              </p>
              <p class="card__badges"><StatusBadge status={visit.data.status} table={VISIT_STATUS} /> <PendingBadge record={visit} /></p>
            </li>
          ))}
        </ol>
      )}
    </Page>
  );
}
