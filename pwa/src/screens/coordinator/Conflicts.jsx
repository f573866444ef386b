/**
 * Conflicts: the value made offline, the value already on the server and the value
 * both started from, side by side; keep one or enter another. Resolving is a server
 * call (POST /conflicts/{id}/resolve), so it needs a connection — and so does who made
 * each change, on which device and when (GET /conflicts/{id}/changes: the synced record
 * carries only ids; names are resolved by the server). Offline, the card still says
 * which change was yours.
 */
import { useEffect, useState } from 'preact/hooks';
import { Page, Empty, Notice } from '../../components/Page.jsx';
import { TextField } from '../../components/fields.jsx';
import { useLive, useSyncState } from '../../lib/hooks.js';
import { all } from '../../lib/queries.js';
import { api, ApiError, NetworkError } from '../../lib/api.js';
import { syncEngine } from '../../lib/sync.js';
import { formatDateTime, fullName, showValue, parseLike, editableText } from '../../lib/format.js';
import { ENTITY, label, fieldLabel } from '../../lib/labels.js';

async function load() {
  const [conflicts, patients] = await Promise.all([all('conflict'), all('patient')]);
  return { conflicts: conflicts.filter((c) => c.data.status === 'open'), patients: new Map(patients.map((p) => [p.id, p])) };
}

/** "Tom Evans on Phone (Chrome), 24 Nov 2026, 09:00" — or what is known offline. */
function describeChange(side, fallback) {
  if (!side) return fallback;
  const who = side.name || 'Someone';
  const where = side.device ? ` on ${side.device}` : '';
  return `${who}${where}${side.at ? `, ${formatDateTime(side.at)}` : ''}`;
}

/** Asked again when the device comes back online (offline the ids say only "you"). */
function useConflictChanges(id) {
  const { online } = useSyncState();
  const [changes, setChanges] = useState(null);
  useEffect(() => {
    if (online && !changes) api(`/conflicts/${id}/changes`).then(setChanges).catch(() => {});
  }, [id, online]);
  return changes;
}

function ConflictCard({ conflict, patient, user }) {
  const c = conflict.data;
  const mine = c.client_author_id === user.id;
  const changes = useConflictChanges(conflict.id);
  const [custom, setCustom] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const resolve = async (resolution, value) => {
    setBusy(true);
    setError('');
    try {
      const body = { resolution };
      if (resolution === 'custom') body.value = value;
      await api(`/conflicts/${conflict.id}/resolve`, { method: 'POST', body });
      await syncEngine.syncNow();
    } catch (err) {
      if (err instanceof NetworkError) setError('You are offline. Resolving a conflict needs a connection; your choice was not sent.');
      else if (err instanceof ApiError) setError(err.message);
      else throw err;
    } finally {
      setBusy(false);
    }
  };
  const heading = `${label(ENTITY, c.entity)}: ${fieldLabel(c.field)}`;
  return (
    <li class="card">
      <h2 class="card__title">{heading}</h2>
      <p class="card__meta">{patient ? <a href={`/patients/${patient.id}`}>{fullName(patient)}</a> : 'Patient not on this device'}{conflict.updated_at ? ` · ${formatDateTime(conflict.updated_at)}` : ''}</p>
      <div class="compare" role="group" aria-label={`Values for ${heading}`}>
        <div class="compare__col">
          <h3>{mine ? 'Your value (made offline)' : 'Value made offline on another device'}</h3>
          <p class="compare__value">{showValue(c.client_value)}</p>
          <p class="compare__who">{describeChange(changes && changes.offline, mine ? 'You (names show when online)' : 'Another user (names show when online)')}</p>
        </div>
        <div class="compare__col">
          <h3>{mine ? 'Their value (already on the server)' : 'Value on the server'}</h3>
          <p class="compare__value">{showValue(c.server_value)}</p>
          <p class="compare__who">{describeChange(changes && changes.server, 'Names show when online')}</p>
        </div>
        <div class="compare__col compare__col--base">
          <h3>Value before both changes</h3>
          <p class="compare__value">{showValue(c.base_value)}</p>
        </div>
      </div>
      <div class="actions">
        <button type="button" class="button" disabled={busy} onClick={() => resolve('took_client')}>{mine ? 'Keep mine' : 'Keep offline value'}</button>
        <button type="button" class="button" disabled={busy} onClick={() => resolve('kept_server')}>{mine ? 'Keep theirs' : 'Keep server value'}</button>
        {custom === null ? (
          <button type="button" class="button button--secondary" disabled={busy} onClick={() => setCustom(editableText(c.server_value))}>Edit a new value</button>
        ) : null}
      </div>
      {custom !== null ? (
        <form class="stack panel" onSubmit={(e) => { e.preventDefault(); resolve('custom', parseLike(custom, c.server_value ?? c.client_value)); }}>
          <TextField name="custom" label={`New value for ${fieldLabel(c.field)}`} multiline={typeof c.server_value === 'string' && c.server_value.length > 40} value={custom} onInput={setCustom} required />
          <div class="actions">
            <button type="submit" class="button" disabled={busy}>Save this value</button>
            <button type="button" class="button button--secondary" onClick={() => setCustom(null)}>Cancel</button>
          </div>
        </form>
      ) : null}
      <Notice kind="error">{error}</Notice>
    </li>
  );
}

export function Conflicts({ user }) {
  const d = useLive(load, [], null);
  return (
    <Page title="Conflicts" lead="The same detail was changed on two devices while one was offline. Choose which value to keep.">
      {d && d.conflicts.length === 0 ? <Empty>No open conflicts.</Empty> : null}
      <ul class="cards">
        {(d ? d.conflicts : []).map((c) => <ConflictCard key={c.id} conflict={c} patient={d.patients.get(c.patient_id)} user={user} />)}
      </ul>
    </Page>
  );
}
