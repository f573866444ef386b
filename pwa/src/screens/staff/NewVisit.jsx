/** Staff: book a visit for a patient (assigned to me by default). */
import { useState } from 'preact/hooks';
import { Page } from '../../components/Page.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { TextField, SelectField, useForm } from '../../components/fields.jsx';
import { createRecord } from '../../lib/outbox.js';
import { navigate } from '../../lib/router.js';
import { toLocalInput, fromLocalInput } from '../../lib/format.js';
import { VISIT_TYPE } from '../../lib/labels.js';

export function NewVisit({ patientId, user }) {
  const start = new Date(Date.now() + 60 * 60 * 1000);
  start.setMinutes(0, 0, 0);
  const form = useForm({ visit_type: 'review', start: toLocalInput(start.toISOString()), minutes: '30' });
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const begin = fromLocalInput(form.values.start);
    const minutes = Number(form.values.minutes);
    if (!begin || !(minutes > 0)) {
      setError('Enter a start time and a length in minutes.');
      return;
    }
    const end = new Date(new Date(begin).getTime() + minutes * 60_000).toISOString();
    const id = await createRecord('visit', {
      patient_id: patientId, assigned_to: user.id, scheduled_start: begin, scheduled_end: end,
      visit_type: form.values.visit_type, status: 'scheduled', interventions: [],
    });
    navigate(`/visits/${id}`, { replace: true });
  };
  return (
    <Page title="New visit">
      <PatientBanner patientId={patientId} />
      <form onSubmit={submit} class="stack">
        <SelectField name="visit_type" label="Visit type" options={VISIT_TYPE} value={form.values.visit_type} onInput={form.set('visit_type')} required />
        <TextField name="start" type="datetime-local" label="Starts" value={form.values.start} onInput={form.set('start')} required error={error || undefined} />
        <TextField name="minutes" type="number" inputMode="numeric" min="5" max="480" step="5" label="Length in minutes" value={form.values.minutes} onInput={form.set('minutes')} required />
        <button class="button" type="submit">Book visit</button>
      </form>
    </Page>
  );
}
