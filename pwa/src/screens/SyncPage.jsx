/**
 * Sync details: what is waiting, and changes the server rejected with its reasons.
 * Rejected changes stay here until corrected and resent, or discarded on purpose.
 * Patients and carers see the same page in everyday words (`person`).
 */
import { useState } from 'preact/hooks';
import { Page, Section, Empty, Notice } from '../components/Page.jsx';
import { TextField, Checkbox } from '../components/fields.jsx';
import { useLive, useSyncState } from '../lib/hooks.js';
import { db } from '../lib/db.js';
import { resendRejected, discardRejected } from '../lib/outbox.js';
import { syncEngine } from '../lib/sync.js';
import { formatDateTime, formatRelative, parseLike, editableText } from '../lib/format.js';
import { ENTITY, label, fieldLabel } from '../lib/labels.js';
import { problemWords } from '../components/StatusBar.jsx';

const OPS = { create: 'New', update: 'Change to', delete: 'Removal of' };
// What a patient or carer saved, in their words (they make only these).
const PERSON_WHAT = { goal_log: 'Goal done', self_report: 'Message to your care team', reminder: 'Reminder' };
const what = (mutation, person) => (person
  ? PERSON_WHAT[mutation.entity] || 'Something you saved'
  : `${OPS[mutation.op] || mutation.op} ${label(ENTITY, mutation.entity).toLowerCase()}`);

function errorText(error) {
  if (Array.isArray(error)) return error.join(' ');
  if (error && typeof error === 'object') return Object.entries(error).map(([k, v]) => `${fieldLabel(k)}: ${errorText(v)}`).join('; ');
  return String(error);
}

function Rejected({ item, person }) {
  const { mutation, errors } = item;
  const [values, setValues] = useState(() => Object.fromEntries(Object.entries(mutation.fields).map(([k, v]) => [k, editableText(v)])));
  const [discarding, setDiscarding] = useState(false);
  const [sure, setSure] = useState(false);
  const general = Object.entries(errors).filter(([field]) => !(field in mutation.fields));
  const resend = async (event) => {
    event.preventDefault();
    const corrected = Object.fromEntries(Object.entries(values).map(([k, text]) => [k, parseLike(text, mutation.fields[k])]));
    await resendRejected(item.mutation_id, corrected);
    syncEngine.soon(0);
  };
  return (
    <li class="card">
      <h3 class="card__title">{what(mutation, person)}</h3>
      <p class="card__meta">{person
        ? `Saved ${formatDateTime(mutation.client_time)} · could not be sent ${formatDateTime(item.rejected_at)}`
        : `Made ${formatDateTime(mutation.client_time)} · rejected ${formatDateTime(item.rejected_at)}`}</p>
      {general.length ? <Notice kind="error">{general.map(([field, err]) => `${field === '_' ? '' : `${fieldLabel(field)}: `}${errorText(err)}`).join(' ')}</Notice> : null}
      {mutation.op === 'delete' ? <p>{person ? 'This could not be removed.' : 'This removal was refused.'}</p> : (
        <form class="stack" onSubmit={resend}>
          {Object.keys(mutation.fields).map((field) => (
            <TextField key={field} name={field} label={fieldLabel(field)} value={values[field]} onInput={(v) => setValues((cur) => ({ ...cur, [field]: v }))}
              error={errors[field] ? errorText(errors[field]) : undefined} markOptional={false}
              readOnly={field.endsWith('_id') && !errors[field]} />
          ))}
          <button type="submit" class="button">{person ? 'Send it again' : 'Send corrected change'}</button>
        </form>
      )}
      {discarding ? (
        <div class="panel stack">
          <Checkbox label={person ? 'I understand this will be deleted from this device and not sent' : 'I understand this change will be deleted from this device and not sent'} checked={sure} onInput={setSure} />
          <div class="actions">
            <button type="button" class="button button--warning" disabled={!sure} onClick={() => discardRejected(item.mutation_id)}>{person ? 'Delete it' : 'Discard change'}</button>
            <button type="button" class="button button--secondary" onClick={() => setDiscarding(false)}>Keep it</button>
          </div>
        </div>
      ) : <button type="button" class="linkbutton" onClick={() => setDiscarding(true)}>{person ? 'Delete this instead…' : 'Discard this change…'}</button>}
    </li>
  );
}

export function SyncPage({ user }) {
  const state = useSyncState();
  const person = Boolean(user && ['patient', 'carer'].includes(user.role));
  const d = useLive(async () => ({
    outbox: await db.outbox.orderBy('mutation_id').toArray(),
    rejected: await db.rejected.orderBy('mutation_id').toArray(),
  }), [], null);
  return (
    <Page title={person ? 'What is not sent yet' : 'Sync'}>
      {person
        ? <p>{state.online ? 'Online.' : 'Offline: what you save stays on this device and is sent when you are back online.'} Updated {formatRelative(state.lastSyncAt)}.</p>
        : <p>{state.online ? 'Online.' : 'Offline: changes are kept on this device and sent when you reconnect.'} Last sync {formatRelative(state.lastSyncAt)}.</p>}
      <Notice kind="error">{problemWords(state, !person)}</Notice>
      {state.outOfOrder && !person ? <Notice kind="warning">The server asked for changes in a different order; sync will try again shortly.</Notice> : null}
      <Section title={person ? 'Could not be sent' : 'Needs correction'} id="rejected">
        {d && d.rejected.length === 0 ? <Empty>{person ? 'Everything you saved could be sent.' : 'Nothing needs correcting.'}</Empty> : (
          <>
            <p>{person
              ? 'These could not be sent. Check them and send them again, or ask your care team for help before you delete anything.'
              : 'The server could not accept these changes. Correct and resend them, or discard them.'}</p>
            <ul class="cards">{(d ? d.rejected : []).map((item) => <Rejected key={item.mutation_id} item={item} person={person} />)}</ul>
          </>
        )}
      </Section>
      <Section title={person ? 'Not sent yet' : 'Waiting to sync'} id="waiting">
        {d && d.outbox.length === 0 ? <Empty>Everything has been sent.</Empty> : (
          <ol class="plain">
            {(d ? d.outbox : []).map((m) => (
              <li key={m.mutation_id}>
                {person
                  ? `${what(m, true)} — saved ${formatDateTime(m.client_time)}`
                  : `${what(m, false)} (${Object.keys(m.fields).map(fieldLabel).join(', ') || 'no fields'}) — ${formatDateTime(m.client_time)}`}
              </li>
            ))}
          </ol>
        )}
      </Section>
    </Page>
  );
}
