/**
 * Sync details: what is waiting, and changes the server rejected with its reasons.
 * Rejected changes stay here until corrected and resent, or discarded on purpose.
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

const OPS = { create: 'New', update: 'Change to', delete: 'Removal of' };

function errorText(error) {
  if (Array.isArray(error)) return error.join(' ');
  if (error && typeof error === 'object') return Object.entries(error).map(([k, v]) => `${fieldLabel(k)}: ${errorText(v)}`).join('; ');
  return String(error);
}

function Rejected({ item }) {
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
      <h3 class="card__title">{OPS[mutation.op] || mutation.op} {label(ENTITY, mutation.entity).toLowerCase()}</h3>
      <p class="card__meta">Made {formatDateTime(mutation.client_time)} · rejected {formatDateTime(item.rejected_at)}</p>
      {general.length ? <Notice kind="error">{general.map(([field, err]) => `${field === '_' ? '' : `${fieldLabel(field)}: `}${errorText(err)}`).join(' ')}</Notice> : null}
      {mutation.op === 'delete' ? <p>This removal was refused.</p> : (
        <form class="stack" onSubmit={resend}>
          {Object.keys(mutation.fields).map((field) => (
            <TextField key={field} name={field} label={fieldLabel(field)} value={values[field]} onInput={(v) => setValues((cur) => ({ ...cur, [field]: v }))}
              error={errors[field] ? errorText(errors[field]) : undefined} markOptional={false}
              readOnly={field.endsWith('_id') && !errors[field]} />
          ))}
          <button type="submit" class="button">Send corrected change</button>
        </form>
      )}
      {discarding ? (
        <div class="panel stack">
          <Checkbox label="I understand this change will be deleted from this device and not sent" checked={sure} onInput={setSure} />
          <div class="actions">
            <button type="button" class="button button--warning" disabled={!sure} onClick={() => discardRejected(item.mutation_id)}>Discard change</button>
            <button type="button" class="button button--secondary" onClick={() => setDiscarding(false)}>Keep it</button>
          </div>
        </div>
      ) : <button type="button" class="linkbutton" onClick={() => setDiscarding(true)}>Discard this change…</button>}
    </li>
  );
}

export function SyncPage() {
  const state = useSyncState();
  const d = useLive(async () => ({
    outbox: await db.outbox.orderBy('mutation_id').toArray(),
    rejected: await db.rejected.orderBy('mutation_id').toArray(),
  }), [], null);
  return (
    <Page title="Sync">
      <p>{state.online ? 'Online.' : 'Offline: changes are kept on this device and sent when you reconnect.'} Last sync {formatRelative(state.lastSyncAt)}.</p>
      <Notice kind="error">{state.error}</Notice>
      {state.outOfOrder ? <Notice kind="warning">The server asked for changes in a different order; sync will try again shortly.</Notice> : null}
      <Section title="Needs correction" id="rejected">
        {d && d.rejected.length === 0 ? <Empty>Nothing needs correcting.</Empty> : (
          <>
            <p>The server could not accept these changes. Correct and resend them, or discard them.</p>
            <ul class="cards">{(d ? d.rejected : []).map((item) => <Rejected key={item.mutation_id} item={item} />)}</ul>
          </>
        )}
      </Section>
      <Section title="Waiting to sync" id="waiting">
        {d && d.outbox.length === 0 ? <Empty>Everything has been sent.</Empty> : (
          <ol class="plain">
            {(d ? d.outbox : []).map((m) => (
              <li key={m.mutation_id}>
                {OPS[m.op] || m.op} {label(ENTITY, m.entity).toLowerCase()} ({Object.keys(m.fields).map(fieldLabel).join(', ') || 'no fields'}) — {formatDateTime(m.client_time)}
              </li>
            ))}
          </ol>
        )}
      </Section>
    </Page>
  );
}
