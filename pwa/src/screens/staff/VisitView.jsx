/**
 * Staff: one visit — start, complete, no access, sign. A signed visit is read-only;
 * corrections are addenda (SPEC §2).
 */
import { useState } from 'preact/hooks';
import { Page, Section, Notice, Empty } from '../../components/Page.jsx';
import { StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { TextField, Checkboxes, Checkbox } from '../../components/fields.jsx';
import { useLive } from '../../lib/hooks.js';
import { one, ofPatient, sortOldest } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { useEditForm, editRecord } from '../../lib/editForm.js';
import { formatDateTime, fullName } from '../../lib/format.js';
import { VISIT_TYPE, VISIT_STATUS, label } from '../../lib/labels.js';

export const INTERVENTIONS = {
  'Wound care': 'Wound care', 'Medication administered': 'Medication administered', 'Medication review': 'Medication review',
  'Observations': 'Observations', 'Falls advice': 'Falls advice', 'Continence care': 'Continence care',
  'Pressure area care': 'Pressure area care', 'Health education': 'Health education', 'Referral made': 'Referral made',
};

async function load(id) {
  const visit = await one('visit', id);
  if (!visit) return { visit: null };
  const [patient, addenda] = await Promise.all([one('patient', visit.patient_id), ofPatient('visit_addendum', visit.patient_id)]);
  return { visit, patient, addenda: sortOldest(addenda.filter((a) => a.data.visit_id === id), 'created_at') };
}

function Details({ visit, user }) {
  const v = visit.data;
  const rows = [
    ['Booked', `${formatDateTime(v.scheduled_start)} to ${formatDateTime(v.scheduled_end)}`],
    ['Type', label(VISIT_TYPE, v.visit_type)],
    ['Assigned to', v.assigned_to === user.id ? 'You' : v.assigned_to ? 'Another team member' : 'Nobody yet'],
    ['Started', v.started_at ? formatDateTime(v.started_at) : null],
    ['Ended', v.ended_at ? formatDateTime(v.ended_at) : null],
    ['Notes', v.notes],
    ['Interventions', (v.interventions || []).join(', ') || null],
    ['Signed', v.signed_at ? `${formatDateTime(v.signed_at)}${v.signed_by === user.id ? ' by you' : ''}` : null],
  ].filter(([, value]) => value);
  return <dl class="summary">{rows.map(([t, d]) => <div class="summary__row" key={t}><dt>{t}</dt><dd>{d}</dd></div>)}</dl>;
}

function Addendum({ visit, addenda }) {
  const [text, setText] = useState('');
  const [saved, setSaved] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    if (!text.trim()) return;
    await createRecord('visit_addendum', { visit_id: visit.id, patient_id: visit.patient_id, text: text.trim() });
    setText('');
    setSaved(true);
  };
  return (
    <Section title="Addenda" id="addenda">
      {addenda.length === 0 ? <Empty>No addenda.</Empty> : (
        <ol class="plain">{addenda.map((a) => <li key={a.id}>{a.data.text} <PendingBadge record={a} /></li>)}</ol>
      )}
      <form onSubmit={submit} class="stack">
        <TextField name="addendum" label="Add an addendum" hint="The signed visit stays as it was; the addendum is added to the record." multiline value={text} onInput={(v) => { setText(v); setSaved(false); }} required />
        <button class="button" type="submit">Save addendum</button>
        {saved ? <Notice kind="success">Addendum saved on this device.</Notice> : null}
      </form>
    </Section>
  );
}

const outcomeValues = (v) => ({
  notes: v.notes || '',
  interventions: (v.interventions || []).filter((i) => INTERVENTIONS[i]),
  other: (v.interventions || []).filter((i) => !INTERVENTIONS[i]).join('; '),
});

const outcomeFields = (values) => ({
  notes: values.notes,
  interventions: [...values.interventions, ...values.other.split(';').map((s) => s.trim()).filter(Boolean)],
});

// Each form below saves only what was changed in it, on the version it opened on
// (editForm.js): another device's change to the visit meanwhile is kept, or conflicts.

function Outcome({ visit, onDone }) {
  const form = useEditForm(visit, { toValues: outcomeValues, toFields: outcomeFields });
  const { values, set } = form;
  const complete = async (event) => {
    event.preventDefault();
    const done = await form.save({ status: 'completed', ended_at: form.opened.data.ended_at || new Date().toISOString() });
    if (done) onDone('Visit completed. Sign it when the notes are final.');
  };
  const saveNotes = async () => {
    const saved = await form.save();
    if (saved) onDone(Object.keys(saved).length ? 'Notes saved on this device.' : 'Nothing changed.');
  };
  return (
    <form onSubmit={complete} class="stack">
      <TextField name="notes" label="Visit notes" multiline value={values.notes} onInput={set('notes')} />
      <Checkboxes name="interventions" label="Interventions" options={INTERVENTIONS} values={values.interventions} onInput={set('interventions')} />
      <TextField name="other_interventions" label="Other interventions" hint="Separate several with a semicolon (;)" value={values.other} onInput={set('other')} />
      <div class="actions">
        {visit.data.status === 'in_progress' ? <button class="button" type="submit">Complete visit</button> : null}
        <button class="button button--secondary" type="button" onClick={saveNotes}>Save notes</button>
      </div>
    </form>
  );
}

function NoAccessForm({ visit, onDone, onCancel }) {
  const form = useEditForm(visit);
  const [notes, setNotes] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const now = new Date().toISOString();
    const done = await form.save({ status: 'no_access', started_at: form.opened.data.started_at || now, ended_at: now, notes });
    if (done) onDone('Recorded as no access. The care co-ordinator is alerted for a welfare check when this syncs.');
  };
  return (
    <form onSubmit={submit} class="stack panel">
      <TextField name="no_access_notes" label="What happened?" hint="For example: no answer at door, key safe empty, neighbour not seen them." multiline value={notes} onInput={setNotes} required />
      <div class="actions">
        <button class="button button--warning" type="submit">Record no access</button>
        <button class="button button--secondary" type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function NoAccess({ visit, onDone }) {
  const [open, setOpen] = useState(false);
  if (!open) return <button type="button" class="button button--warning" onClick={() => setOpen(true)}>No access</button>;
  return <NoAccessForm visit={visit} onDone={onDone} onCancel={() => setOpen(false)} />;
}

function Sign({ visit, onDone }) {
  const form = useEditForm(visit);
  const [confirmed, setConfirmed] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    if (!confirmed) return;
    // signed_by is set by the server from the signed-in user; a device may not send it.
    const done = await form.save({ signed_at: new Date().toISOString() });
    if (done) onDone('Visit signed. It can no longer be changed; use an addendum for corrections.');
  };
  return (
    <form onSubmit={submit} class="stack panel">
      <h2>Sign the visit record</h2>
      <Checkbox label="I confirm this record is complete and accurate. After signing it cannot be changed." checked={confirmed} onInput={setConfirmed} />
      <button class="button" type="submit" disabled={!confirmed}>Sign visit</button>
    </form>
  );
}

export function VisitView({ id, user }) {
  const d = useLive(() => load(id), [id], null);
  const [message, setMessage] = useState('');
  if (d === null) return <Page title="Visit"><p>Loading…</p></Page>;
  if (!d.visit) return <Page title="Visit not found"><p>This visit is not on this device.</p></Page>;
  const { visit, patient, addenda } = d;
  const v = visit.data;
  const signed = Boolean(v.signed_at);
  const start = async () => {
    if (await editRecord(visit, { status: 'in_progress', started_at: new Date().toISOString() })) setMessage('Visit started.');
  };
  return (
    <Page title={`Visit: ${label(VISIT_TYPE, v.visit_type)}`} actions={<><StatusBadge status={v.status} table={VISIT_STATUS} /> <PendingBadge record={visit} /></>}>
      <p class="lead">{patient ? <a href={`/patients/${patient.id}`}>{fullName(patient)}</a> : 'Patient not on this device'}</p>
      <PatientBanner patientId={visit.patient_id} />
      <Details visit={visit} user={user} />
      <Notice kind="success">{message}</Notice>
      {signed ? (
        <>
          <Notice kind="info">This visit is signed and read-only. Add an addendum to correct or add to it.</Notice>
          <Addendum visit={visit} addenda={addenda} />
        </>
      ) : (
        <>
          {v.status === 'scheduled' ? (
            <div class="actions">
              <button type="button" class="button" onClick={start}>Start visit</button>
              <NoAccess visit={visit} onDone={setMessage} />
            </div>
          ) : null}
          {v.status === 'in_progress' || v.status === 'completed' ? <Outcome visit={visit} onDone={setMessage} /> : null}
          {v.status === 'in_progress' ? <NoAccess visit={visit} onDone={setMessage} /> : null}
          {v.status === 'completed' || v.status === 'no_access' ? <Sign visit={visit} onDone={setMessage} /> : null}
          {patient ? (
            <p class="actions">
              <a class="button button--secondary" href={`/patients/${patient.id}/falls/new?visit=${visit.id}`}>Falls assessment at this visit</a>
            </p>
          ) : null}
        </>
      )}
    </Page>
  );
}
