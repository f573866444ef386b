/**
 * Coordinator: the escalations inbox. Acknowledge and resolve go through sync (a
 * status change on the escalation record), so they work offline too.
 * `/escalations/:id` shows one escalation, whatever its status: it is where a push
 * notification leads, for coordinators and for a nurse who is the named care
 * co-ordinator (read-only: only coordinators may change escalations).
 */
import { useState } from 'preact/hooks';
import { Page, Empty, Notice } from '../../components/Page.jsx';
import { SeverityBadge, StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { SelectField, TextField } from '../../components/fields.jsx';
import { useLive } from '../../lib/hooks.js';
import { all } from '../../lib/queries.js';
import { openedOn, saveEdit, editRecord } from '../../lib/editForm.js';
import { formatDateTime, fullName } from '../../lib/format.js';
import { RULE, SEVERITY, SEVERITY_ORDER, ESCALATION_STATUS, label } from '../../lib/labels.js';

async function load() {
  const [escalations, patients] = await Promise.all([all('escalation'), all('patient')]);
  return { escalations, patients: new Map(patients.map((p) => [p.id, p])) };
}

const PAGE = 50;

export function sortEscalations(list) {
  return [...list].sort((a, b) => (SEVERITY_ORDER[a.data.severity] ?? 9) - (SEVERITY_ORDER[b.data.severity] ?? 9)
    || String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
}

function Resolve({ escalation, onDone }) {
  const [opened, setOpened] = useState(null); // the escalation as the form opened on it
  const [note, setNote] = useState('');
  if (!opened) return <button type="button" class="button button--secondary" onClick={() => setOpened(openedOn(escalation))}>Resolve…</button>;
  const submit = async (event) => {
    event.preventDefault();
    if (!note.trim()) return;
    if (await saveEdit(opened, { status: 'resolved', resolution_note: note.trim() })) onDone('Escalation resolved.');
  };
  return (
    <form class="stack panel" onSubmit={submit}>
      <TextField name="resolution_note" label="What was done?" hint="For example: welfare call made, patient safe; referred to falls clinic." multiline value={note} onInput={setNote} required />
      <div class="actions">
        <button type="submit" class="button">Resolve escalation</button>
        <button type="button" class="button button--secondary" onClick={() => setOpened(null)}>Cancel</button>
      </div>
    </form>
  );
}

export function Escalations({ id, user }) {
  const d = useLive(load, [], null);
  const [status, setStatus] = useState('open');
  const [severity, setSeverity] = useState('');
  const [message, setMessage] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const canAct = !user || user.role === 'coordinator';
  const shown = (e) => (id ? e.id === id : (!status || e.data.status === status) && (!severity || e.data.severity === severity));
  const list = d ? sortEscalations(d.escalations.filter(shown)) : [];
  return (
    <Page title={id ? 'Escalation' : 'Escalations'}>
      {id ? (
        canAct ? <p><a href="/escalations">All escalations</a></p> : null
      ) : (
        <div class="filters">
          <SelectField name="status" label="Status" placeholder="All statuses" options={ESCALATION_STATUS} value={status} onInput={setStatus} required />
          <SelectField name="severity" label="Severity" placeholder="All severities" options={SEVERITY} value={severity} onInput={setSeverity} required />
        </div>
      )}
      <Notice kind="success">{message}</Notice>
      {id ? null : <p class="hint" aria-live="polite">{d ? `${list.length} escalation${list.length === 1 ? '' : 's'}, most severe first` : 'Loading…'}</p>}
      {d && list.length === 0 ? <Empty>{id ? 'This escalation is not on this device. Sync now, or it may be for a patient no longer on your caseload.' : 'No escalations match.'}</Empty> : null}
      <ul class="cards">
        {list.slice(0, limit).map((e) => {
          const patient = d.patients.get(e.patient_id);
          return (
            <li class={`card card--sev-${e.data.severity}`} key={e.id}>
              <h2 class="card__title">{label(RULE, e.data.rule)}</h2>
              <p class="card__badges"><SeverityBadge severity={e.data.severity} /> <StatusBadge status={e.data.status} /> <PendingBadge record={e} /></p>
              <p>{patient ? <a href={`/patients/${patient.id}`}>{fullName(patient)}</a> : 'Patient not on this device'}</p>
              {e.data.reason ? <p>{e.data.reason}</p> : null}
              <p class="card__meta">
                {e.data.occurrences > 1 ? `${e.data.occurrences} occurrences · ` : ''}
                {e.updated_at ? `updated ${formatDateTime(e.updated_at)}` : ''}
                {e.data.acknowledged_at ? ` · acknowledged ${formatDateTime(e.data.acknowledged_at)}` : ''}
                {e.data.resolved_at ? ` · resolved ${formatDateTime(e.data.resolved_at)}` : ''}
              </p>
              {e.data.resolution_note ? <p>Resolution: {e.data.resolution_note}</p> : null}
              {canAct && e.data.status !== 'resolved' ? (
                <div class="actions">
                  {e.data.status === 'open' ? (
                    <button type="button" class="button" onClick={async () => { if (await editRecord(e, { status: 'acknowledged' })) setMessage(`Acknowledged: ${label(RULE, e.data.rule)}.`); }}>
                      Acknowledge
                    </button>
                  ) : null}
                  <Resolve escalation={e} onDone={setMessage} />
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
      {list.length > limit ? (
        <button type="button" class="button button--secondary" onClick={() => setLimit(limit + PAGE)}>Show more ({list.length - limit} not shown)</button>
      ) : null}
    </Page>
  );
}
