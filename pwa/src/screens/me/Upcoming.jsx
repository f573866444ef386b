/** Patient and carer: upcoming visits (times; no clinical notes). */
import { Page, Empty } from '../../components/Page.jsx';
import { useLive } from '../../lib/hooks.js';
import { ofPatient, sortOldest } from '../../lib/queries.js';
import { formatDay, formatTime, localDate } from '../../lib/format.js';
import { VISIT_TYPE, label } from '../../lib/labels.js';
import { myPatients } from './context.js';
import { PatientPicker, NoPatient } from './PatientPicker.jsx';

async function load(user) {
  const ctx = await myPatients(user);
  if (!ctx.current) return { ctx, visits: [] };
  const today = localDate();
  const visits = (await ofPatient('visit', ctx.current.id)).filter((v) => ['scheduled', 'in_progress'].includes(v.data.status) && v.data.scheduled_start && localDate(new Date(v.data.scheduled_start)) >= today);
  return { ctx, visits: sortOldest(visits, 'scheduled_start') };
}

export function Upcoming({ user }) {
  const d = useLive(() => load(user), [user.id], null);
  if (d === null) return <Page title="Upcoming visits"><p>Loading…</p></Page>;
  return (
    <Page title="Upcoming visits">
      <PatientPicker ctx={d.ctx} />
      {!d.ctx.current ? <NoPatient user={user} /> : d.visits.length === 0 ? <Empty>No visits are booked yet.</Empty> : (
        <ul class="cards">
          {d.visits.map((v) => (
            <li class="card" key={v.id}>
              <p class="card__title">{formatDay(v.data.scheduled_start)}</p>
              <p>Between {formatTime(v.data.scheduled_start)} and {formatTime(v.data.scheduled_end)}{v.data.visit_type ? ` · ${label(VISIT_TYPE, v.data.visit_type)}` : ''}</p>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
