/** Patient and carer: what was logged and reported in the last 30 days, by day. */
import { Page, Empty } from '../../components/Page.jsx';
import { PendingBadge } from '../../components/Badge.jsx';
import { useLive } from '../../lib/hooks.js';
import { ofPatient, notVoided } from '../../lib/queries.js';
import { localDate, addDays, formatDay, formatTime } from '../../lib/format.js';
import { SELF_REPORT_KIND, label } from '../../lib/labels.js';
import { myPatients } from './context.js';
import { PatientPicker, NoPatient } from './PatientPicker.jsx';

async function load(user) {
  const ctx = await myPatients(user);
  if (!ctx.current) return { ctx, days: [] };
  const since = addDays(localDate(), -30);
  const [goals, logs, reports] = await Promise.all(['goal', 'goal_log', 'self_report'].map((e) => ofPatient(e, ctx.current.id)));
  const titles = new Map(goals.map((g) => [g.id, g.data.title]));
  const items = [
    ...logs.filter((l) => notVoided(l) && l.data.date >= since).map((l) => ({ day: l.data.date, r: l, text: `${titles.get(l.data.goal_id) || 'Goal'}: ${l.data.done ? 'done' : 'not done'}${l.data.note ? ` — ${l.data.note}` : ''}` })),
    ...reports.filter((s) => notVoided(s) && s.data.happened_at && localDate(new Date(s.data.happened_at)) >= since).map((s) => ({
      day: localDate(new Date(s.data.happened_at)), r: s,
      text: `${formatTime(s.data.happened_at)}: told the care team about ${label(SELF_REPORT_KIND, s.data.kind).toLowerCase()}${s.data.injured ? '. Hurt' : ''}${s.data.unable_to_get_up ? '. Needed help to get up' : ''}`,
    })),
  ];
  const days = new Map();
  for (const item of items.sort((a, b) => b.day.localeCompare(a.day))) {
    if (!days.has(item.day)) days.set(item.day, []);
    days.get(item.day).push(item);
  }
  return { ctx, days: [...days.entries()] };
}

export function History({ user }) {
  const d = useLive(() => load(user), [user.id], null);
  if (d === null) return <Page title="History"><p>Loading…</p></Page>;
  return (
    <Page title="History" lead="What was saved in the last 30 days.">
      <PatientPicker ctx={d.ctx} />
      {!d.ctx.current ? <NoPatient user={user} /> : d.days.length === 0 ? <Empty>Nothing saved in the last 30 days.</Empty> : d.days.map(([day, items]) => (
        <section class="section" key={day} aria-label={formatDay(day)}>
          <h2>{formatDay(day)}</h2>
          <ul class="plain">{items.map((i) => <li key={i.r.id}>{i.text} <PendingBadge record={i.r} person /></li>)}</ul>
        </section>
      ))}
    </Page>
  );
}
