/** Patient and carer: reminders (see, add, pause) and notification opt-in. */
import { useState } from 'preact/hooks';
import { Page, Section, Empty, Notice } from '../../components/Page.jsx';
import { TextField, SelectField, Checkboxes, ErrorSummary, useForm } from '../../components/fields.jsx';
import { PendingBadge } from '../../components/Badge.jsx';
import { Notifications } from '../../components/Notifications.jsx';
import { useLive } from '../../lib/hooks.js';
import { ofPatient } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { editRecord } from '../../lib/editForm.js';
import { localDate } from '../../lib/format.js';
import { DAYS } from '../../lib/labels.js';
import { myPatients } from './context.js';
import { PatientPicker, NoPatient } from './PatientPicker.jsx';

const DAY_OPTIONS = Object.fromEntries(DAYS.map((d, i) => [String(i + 1), d]));

export function describeDays(days) {
  const set = [...(days || [])].map(Number).sort();
  if (set.length === 7) return 'every day';
  if (set.join() === '1,2,3,4,5') return 'weekdays';
  if (set.join() === '6,7') return 'weekends';
  return set.map((d) => DAYS[d - 1]).join(', ') || 'no days';
}

async function load(user) {
  const ctx = await myPatients(user);
  if (!ctx.current) return { ctx, reminders: [], goals: [] };
  const [reminders, goals] = await Promise.all([ofPatient('reminder', ctx.current.id), ofPatient('goal', ctx.current.id)]);
  return { ctx, reminders: reminders.sort((a, b) => String(a.data.time_of_day).localeCompare(String(b.data.time_of_day))), goals: goals.filter((g) => g.data.status === 'active') };
}

const blank = () => ({ title: '', body: '', time_of_day: '09:00', days_of_week: ['1', '2', '3', '4', '5', '6', '7'], goal_id: '' });

function AddReminder({ user, patientId, goals }) {
  const form = useForm(blank());
  const [tried, setTried] = useState(false);
  const [saved, setSaved] = useState('');
  const { values, set } = form;
  const errors = {};
  if (!values.title.trim()) errors.title = 'Enter what the reminder is for.';
  if (values.title.length > 60) errors.title = 'Use 60 characters or fewer.';
  if (values.body.length > 120) errors.body = 'Use 120 characters or fewer for the message.';
  if (!/^\d\d:\d\d$/.test(values.time_of_day)) errors.time_of_day = 'Enter a time, for example 09:00.';
  if (!values.days_of_week.length) errors.days_of_week = 'Choose at least one day.';
  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(errors).length) return;
    const fields = {
      patient_id: patientId, recipient_ids: [user.id], title: values.title.trim(), body: values.body.trim(),
      time_of_day: values.time_of_day, days_of_week: values.days_of_week.map(Number).sort(),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'Europe/London', start_date: localDate(), active: true,
    };
    if (values.goal_id) fields.goal_id = values.goal_id;
    await createRecord('reminder', fields);
    setSaved(`Reminder “${fields.title}” added.`);
    form.setValues(blank());
    setTried(false);
  };
  const shown = tried ? errors : {};
  return (
    <form class="stack" onSubmit={submit} noValidate>
      <ErrorSummary errors={shown} />
      <TextField name="title" label="Reminder" hint="Up to 60 characters, for example: Morning walk" maxLength={60} value={values.title} onInput={set('title')} required error={shown.title} />
      <TextField name="body" label="Message" hint="Up to 120 characters" maxLength={120} value={values.body} onInput={set('body')} error={shown.body} />
      <TextField name="time_of_day" type="time" label="Time" value={values.time_of_day} onInput={set('time_of_day')} required error={shown.time_of_day} />
      <Checkboxes name="days_of_week" label="Days" options={DAY_OPTIONS} values={values.days_of_week} onInput={set('days_of_week')} error={shown.days_of_week} />
      {goals.length ? <SelectField name="goal_id" label="Which goal is it for? (optional)" placeholder="None" options={Object.fromEntries(goals.map((g) => [g.id, g.data.title]))} value={values.goal_id} onInput={set('goal_id')} /> : null}
      <button type="submit" class="button">Add reminder</button>
      <Notice kind="success">{saved}</Notice>
    </form>
  );
}

export function Reminders({ user }) {
  const d = useLive(() => load(user), [user.id], null);
  return (
    <Page title="Reminders">
      <Section title="Notifications on this device" id="notifications"><Notifications /></Section>
      {d === null ? <p>Loading…</p> : !d.ctx.current ? <NoPatient user={user} /> : (
        <>
          <PatientPicker ctx={d.ctx} />
          <Section title="Your reminders" id="reminders">
            {d.reminders.length === 0 ? <Empty>You have no reminders yet.</Empty> : (
              <ul class="cards">
                {d.reminders.map((r) => (
                  <li class="card" key={r.id}>
                    <h3 class="card__title">{r.data.title}</h3>
                    <p class="card__meta">{r.data.time_of_day}, {describeDays(r.data.days_of_week)}{r.data.active ? '' : ' · paused'}</p>
                    {r.data.body ? <p>{r.data.body}</p> : null}
                    <button type="button" class="button button--secondary" onClick={() => editRecord(r, { active: !r.data.active })}>
                      {r.data.active ? 'Pause' : 'Resume'}<span class="visually-hidden"> reminder {r.data.title}</span>
                    </button> <PendingBadge record={r} person />
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Add a reminder" id="add-reminder"><AddReminder user={user} patientId={d.ctx.current.id} goals={d.goals} /></Section>
        </>
      )}
    </Page>
  );
}
