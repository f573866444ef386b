/**
 * Patient and carer: goals with one large "Done today" button. One tap logs it on
 * this device (it syncs later) and says so visibly.
 */
import { useState } from 'preact/hooks';
import { Page, Empty, Notice, Icon } from '../../components/Page.jsx';
import { useLive } from '../../lib/hooks.js';
import { ofPatient, notVoided } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { localDate, addDays, formatTime, fullName } from '../../lib/format.js';
import { myPatients } from './context.js';
import { PatientPicker, NoPatient } from './PatientPicker.jsx';

/** Monday of the week holding `date` (YYYY-MM-DD). */
export function weekStart(date) {
  const day = new Date(`${date}T12:00:00`).getDay(); // 0 = Sunday
  return addDays(date, -((day + 6) % 7));
}

async function load(user) {
  const ctx = await myPatients(user);
  if (!ctx.current) return { ctx, goals: [] };
  const [goals, logs] = await Promise.all([ofPatient('goal', ctx.current.id), ofPatient('goal_log', ctx.current.id)]);
  const today = localDate();
  const monday = weekStart(today);
  return {
    ctx,
    goals: goals.filter((g) => g.data.status === 'active').map((goal) => {
      const mine = logs.filter((l) => l.data.goal_id === goal.id && l.data.done && notVoided(l));
      return {
        goal,
        today: mine.filter((l) => l.data.date === today).length,
        week: mine.filter((l) => l.data.date >= monday && l.data.date <= today).length,
      };
    }),
  };
}

function GoalCard({ row, patientId }) {
  const [confirmation, setConfirmation] = useState('');
  const { goal } = row;
  const done = async () => {
    await createRecord('goal_log', { goal_id: goal.id, patient_id: patientId, date: localDate(), done: true, note: '' });
    setConfirmation(`Saved: “${goal.data.title}” done today at ${formatTime(new Date().toISOString())}. Well done!`);
  };
  const target = goal.data.times_per_week;
  return (
    <li class="goal">
      <h2 class="goal__title">{goal.data.title}</h2>
      {goal.data.description ? <p>{goal.data.description}</p> : null}
      <p class="goal__progress">
        This week: <strong>{row.week}</strong> of {target} time{target === 1 ? '' : 's'}
        {row.today ? <> · <span class="goal__today"><Icon name="check" /> done {row.today === 1 ? 'once' : `${row.today} times`} today</span></> : null}
      </p>
      <button type="button" class="button button--huge" onClick={done} aria-describedby={`goal-${goal.id}-status`}>
        <Icon name="check" /> Done today<span class="visually-hidden">: {goal.data.title}</span>
      </button>
      <div id={`goal-${goal.id}-status`}>
        <Notice kind="success">{confirmation}</Notice>
      </div>
    </li>
  );
}

export function MyGoals({ user }) {
  const d = useLive(() => load(user), [user.id], null);
  if (d === null) return <Page title="My goals"><p>Loading…</p></Page>;
  const patient = d.ctx.current;
  return (
    <Page title={user.role === 'carer' && patient ? `Goals: ${fullName(patient)}` : 'My goals'}>
      <PatientPicker ctx={d.ctx} />
      {!patient ? <NoPatient user={user} /> : d.goals.length === 0 ? <Empty>{user.role === 'carer' ? 'There are no goals yet. The nurse can set them up with you.' : 'You have no goals yet. Your nurse can set them up with you.'}</Empty> : (
        <ul class="goals">{d.goals.map((row) => <GoalCard key={row.goal.id} row={row} patientId={patient.id} />)}</ul>
      )}
      <p class="hint">You can use this without the internet. What you save stays on this device and is sent when you are back online.</p>
    </Page>
  );
}
