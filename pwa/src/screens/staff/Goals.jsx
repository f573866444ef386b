/** Staff: a patient's goals — add, edit, and log progress. */
import { useState } from 'preact/hooks';
import { Page, Section, Notice, Empty } from '../../components/Page.jsx';
import { TextField, SelectField, YesNo, ErrorSummary, useForm } from '../../components/fields.jsx';
import { PendingBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { useLive } from '../../lib/hooks.js';
import { one, ofPatient, sortNewest, notVoided } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { useEditForm } from '../../lib/editForm.js';
import { localDate, addDays, formatDate, fullName } from '../../lib/format.js';
import { GOAL_STATUS, label } from '../../lib/labels.js';

const blankGoal = () => ({ title: '', description: '', times_per_week: '7', start_date: localDate(), review_date: addDays(localDate(), 28), status: 'active' });

function goalProblems(values) {
  const errors = {};
  if (!values.title.trim()) errors.title = 'Enter a title.';
  const times = Number(values.times_per_week);
  if (!Number.isInteger(times) || times < 1 || times > 21) errors.times_per_week = 'Times a week must be a whole number from 1 to 21.';
  if (values.review_date && values.start_date && values.review_date < values.start_date) errors.review_date = 'The review date must be on or after the start date.';
  return errors;
}

function toFields(values) {
  return {
    title: values.title.trim(), description: values.description.trim(), times_per_week: Number(values.times_per_week),
    start_date: values.start_date || undefined, review_date: values.review_date || undefined, status: values.status,
  };
}

function GoalFields({ form, errors }) {
  const { values, set } = form;
  return (
    <>
      <TextField name="title" label="Goal" hint="In the person's own words, for example: walk to the post box" value={values.title} onInput={set('title')} required error={errors.title} />
      <TextField name="description" label="Details" multiline value={values.description} onInput={set('description')} />
      <TextField name="times_per_week" type="number" inputMode="numeric" min="1" max="21" label="Times a week" value={values.times_per_week} onInput={set('times_per_week')} required error={errors.times_per_week} />
      <TextField name="start_date" type="date" label="Start date" value={values.start_date} onInput={set('start_date')} />
      <TextField name="review_date" type="date" label="Review date" value={values.review_date} onInput={set('review_date')} error={errors.review_date} />
      <SelectField name="status" label="Status" options={GOAL_STATUS} value={values.status} onInput={set('status')} required />
    </>
  );
}

export function GoalsList({ patientId }) {
  const d = useLive(async () => ({ patient: await one('patient', patientId), goals: await ofPatient('goal', patientId) }), [patientId], null);
  const form = useForm(blankGoal());
  const [tried, setTried] = useState(false);
  const [saved, setSaved] = useState('');
  const errors = goalProblems(form.values);
  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(errors).length) return;
    const fields = toFields(form.values);
    for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
    await createRecord('goal', { patient_id: patientId, ...fields });
    setSaved(`Goal “${fields.title}” added.`);
    form.setValues(blankGoal());
    setTried(false);
  };
  return (
    <Page title="Goals" lead={d && d.patient ? fullName(d.patient) : ''}>
      <PatientBanner patientId={patientId} />
      {d && d.goals.length === 0 ? <Empty>No goals yet.</Empty> : null}
      <ul class="cards">
        {(d ? d.goals : []).map((g) => (
          <li class="card" key={g.id}>
            <a class="card__link" href={`/goals/${g.id}`}><span class="card__title">{g.data.title}</span></a>
            <p class="card__meta">{label(GOAL_STATUS, g.data.status)} · {g.data.times_per_week}× a week{g.data.review_date ? ` · review ${formatDate(g.data.review_date)}` : ''}</p>
            <PendingBadge record={g} />
          </li>
        ))}
      </ul>
      <Section title="Add a goal" id="add-goal">
        <form onSubmit={submit} class="stack" noValidate>
          <ErrorSummary errors={tried ? errors : {}} />
          <GoalFields form={form} errors={tried ? errors : {}} />
          <button class="button" type="submit">Add goal</button>
          <Notice kind="success">{saved}</Notice>
        </form>
      </Section>
    </Page>
  );
}

function LogForm({ goal }) {
  const form = useForm({ date: localDate(), done: true, note: '' });
  const [saved, setSaved] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    await createRecord('goal_log', { goal_id: goal.id, patient_id: goal.patient_id, date: form.values.date, done: form.values.done, note: form.values.note.trim() });
    setSaved(`Logged for ${formatDate(form.values.date)}.`);
    form.setValues({ date: localDate(), done: true, note: '' });
  };
  return (
    <form onSubmit={submit} class="stack">
      <TextField name="log_date" type="date" label="Date" value={form.values.date} onInput={form.set('date')} required max={localDate()} />
      <YesNo name="done" label="Done?" value={form.values.done} onInput={form.set('done')} required />
      <TextField name="note" label="Note" value={form.values.note} onInput={form.set('note')} />
      <button class="button" type="submit">Log progress</button>
      <Notice kind="success">{saved}</Notice>
    </form>
  );
}

export function GoalEdit({ id }) {
  const d = useLive(async () => {
    const goal = await one('goal', id);
    const logs = goal ? (await ofPatient('goal_log', goal.patient_id)).filter((l) => l.data.goal_id === id && notVoided(l)) : [];
    return { goal, logs: sortNewest(logs, 'date') };
  }, [id], null);
  if (d === null) return <Page title="Goal"><p>Loading…</p></Page>;
  if (!d.goal) return <Page title="Goal not found"><p>This goal is not on this device.</p></Page>;
  return <GoalEditor key={d.goal.id} goal={d.goal} logs={d.logs} />;
}

const goalValues = (g) => ({
  title: g.title || '', description: g.description || '', times_per_week: String(g.times_per_week || 1),
  start_date: g.start_date || '', review_date: g.review_date || '', status: g.status || 'active',
});

function GoalEditor({ goal, logs }) {
  const g = goal.data;
  // Saves only what was changed here, on the version the form opened on (editForm.js).
  const form = useEditForm(goal, { toValues: goalValues, toFields });
  const [tried, setTried] = useState(false);
  const [saved, setSaved] = useState('');
  const errors = goalProblems(form.values);
  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(errors).length) return;
    const changes = await form.save();
    if (changes) setSaved(Object.keys(changes).length ? 'Goal saved on this device.' : 'Nothing changed.');
  };
  return (
    <Page title={g.title || 'Goal'} actions={<PendingBadge record={goal} />}>
      <PatientBanner patientId={goal.patient_id} />
      <p><a href={`/patients/${goal.patient_id}/goals`}>All goals for this patient</a></p>
      <Section title="Edit goal" id="edit-goal">
        <form onSubmit={submit} class="stack" noValidate>
          <ErrorSummary errors={tried ? errors : {}} />
          <GoalFields form={form} errors={tried ? errors : {}} />
          <button class="button" type="submit">Save goal</button>
          <Notice kind="success">{saved}</Notice>
        </form>
      </Section>
      <Section title="Log progress" id="log"><LogForm goal={goal} /></Section>
      <Section title="Recent log" id="history">
        {logs.length === 0 ? <Empty>Nothing logged yet.</Empty> : (
          <ul class="plain">{logs.slice(0, 30).map((l) => <li key={l.id}>{formatDate(l.data.date)}: {l.data.done ? 'done' : 'not done'}{l.data.note ? ` — ${l.data.note}` : ''} <PendingBadge record={l} /></li>)}</ul>
        )}
      </Section>
    </Page>
  );
}

