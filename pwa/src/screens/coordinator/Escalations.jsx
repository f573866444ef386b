/**
 * Coordinator: the escalations inbox for triage — grouped per patient, most urgent
 * first (severity, then longest waiting), filtered by status, severity, reason, patient
 * and age, with time since raised and since last notified. Acknowledge (one or several
 * at once) and resolve go through sync (a status change on each escalation record, the
 * same path as one at a time), so they work offline too.
 * `/escalations/:id` shows one escalation, whatever its status: it is where a push
 * notification leads, for coordinators and for a nurse who is the named care
 * co-ordinator (read-only: only coordinators may change escalations).
 */
import { useState } from 'preact/hooks';
import { Page, Empty, Notice } from '../../components/Page.jsx';
import { SeverityBadge, StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { SelectField, TextField, Checkbox } from '../../components/fields.jsx';
import { useLive, useTicker } from '../../lib/hooks.js';
import { all } from '../../lib/queries.js';
import { openedOn, saveEdit, editRecord } from '../../lib/editForm.js';
import { formatDateTime, formatRelative, fullName } from '../../lib/format.js';
import { RULE, SEVERITY, SEVERITY_ORDER, ESCALATION_STATUS, label } from '../../lib/labels.js';

async function load() {
  const [escalations, patients] = await Promise.all([all('escalation'), all('patient')]);
  return { escalations, patients: new Map(patients.map((p) => [p.id, p])) };
}

const PAGE = 50;

const RAISED = { day: 'In the last 24 hours', older: 'More than 24 hours ago', week: 'More than 7 days ago' };
const HOUR = 3_600_000;

/** When the escalation was first raised (records made before raised_at existed: updated_at). */
export const raisedAt = (e) => e.data.raised_at || e.updated_at || null;

function raisedWithin(e, age, now) {
  if (!age) return true;
  const hours = (now - new Date(raisedAt(e) || 0).getTime()) / HOUR;
  return age === 'day' ? hours <= 24 : age === 'older' ? hours > 24 : hours > 24 * 7;
}

/** Most urgent first: severity, then the longest waiting (oldest raised). */
function urgency(a, b) {
  return (SEVERITY_ORDER[a.data.severity] ?? 9) - (SEVERITY_ORDER[b.data.severity] ?? 9)
    || String(raisedAt(a) || '').localeCompare(String(raisedAt(b) || ''));
}

export function sortEscalations(list) {
  return [...list].sort(urgency);
}

/** One group per patient, groups in the order of their most urgent escalation. */
export function groupByPatient(list) {
  const groups = new Map();
  for (const e of sortEscalations(list)) {
    if (!groups.has(e.patient_id)) groups.set(e.patient_id, []);
    groups.get(e.patient_id).push(e);
  }
  return [...groups.entries()].map(([patientId, items]) => ({ patientId, items }));
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

function EscalationCard({ e, patient, canAct, selected, onSelect, onMessage }) {
  const name = patient ? fullName(patient) : 'Patient not on this device';
  const title = label(RULE, e.data.rule);
  return (
    <li class={`card card--sev-${e.data.severity}`}>
      <h3 class="card__title">{title}</h3>
      <p class="card__badges"><SeverityBadge severity={e.data.severity} /> <StatusBadge status={e.data.status} /> <PendingBadge record={e} /></p>
      <p>{patient ? <a href={`/patients/${patient.id}`}>{name}</a> : name}</p>
      {e.data.reason ? <p>{e.data.reason}</p> : null}
      <p class="card__meta">
        Raised {formatRelative(raisedAt(e))}
        {' · '}{e.data.notified_at ? `notified ${formatRelative(e.data.notified_at)}` : 'nobody notified yet'}
        {e.data.occurrences > 1 ? ` · ${e.data.occurrences} occurrences` : ''}
        {e.data.acknowledged_at ? ` · acknowledged ${formatDateTime(e.data.acknowledged_at)}` : ''}
        {e.data.resolved_at ? ` · resolved ${formatDateTime(e.data.resolved_at)}` : ''}
      </p>
      {e.data.resolution_note ? <p>Resolution: {e.data.resolution_note}</p> : null}
      {canAct && e.data.status !== 'resolved' ? (
        <div class="actions">
          {onSelect && e.data.status === 'open' ? (
            <Checkbox label={<>Select<span class="visually-hidden"> {title} for {name}</span></>} checked={selected} onInput={onSelect} />
          ) : null}
          {e.data.status === 'open' ? (
            <button type="button" class="button" onClick={async () => { if (await editRecord(e, { status: 'acknowledged' })) onMessage(`Acknowledged: ${title}.`); }}>
              Acknowledge<span class="visually-hidden"> {title}, {name}</span>
            </button>
          ) : null}
          <Resolve escalation={e} onDone={onMessage} />
        </div>
      ) : null}
    </li>
  );
}

export function Escalations({ id, user }) {
  useTicker(60_000);
  const d = useLive(load, [], null);
  const [filters, setFilters] = useState({ status: 'open', severity: '', rule: '', patient: '', age: '' });
  const [selected, setSelected] = useState(() => new Set());
  const [message, setMessage] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const canAct = !user || user.role === 'coordinator';
  const set = (key) => (value) => setFilters({ ...filters, [key]: value });
  const now = Date.now();
  const words = filters.patient.trim().toLowerCase();
  const shown = (e) => {
    if (id) return e.id === id;
    const patient = d.patients.get(e.patient_id);
    return (!filters.status || e.data.status === filters.status) && (!filters.severity || e.data.severity === filters.severity)
      && (!filters.rule || e.data.rule === filters.rule) && raisedWithin(e, filters.age, now)
      && (!words || (patient && fullName(patient).toLowerCase().includes(words)));
  };
  const list = d ? d.escalations.filter(shown) : [];
  const groups = groupByPatient(list);
  const visibleGroups = [];
  let count = 0;
  for (const group of groups) {
    if (count >= limit) break;
    visibleGroups.push(group);
    count += group.items.length;
  }
  const chosen = list.filter((e) => selected.has(e.id) && e.data.status === 'open');
  const toggle = (escalationId) => (on) => {
    const next = new Set(selected);
    if (on) next.add(escalationId); else next.delete(escalationId);
    setSelected(next);
  };
  const acknowledgeChosen = async () => {
    for (const e of chosen) await editRecord(e, { status: 'acknowledged' });
    setMessage(`Acknowledged ${chosen.length} escalation${chosen.length === 1 ? '' : 's'}.`);
    setSelected(new Set());
  };
  const openShown = list.filter((e) => e.data.status === 'open');
  return (
    <Page title={id ? 'Escalation' : 'Escalations'}>
      {id ? (
        canAct ? <p><a href="/escalations">All escalations</a></p> : null
      ) : (
        <div class="filters">
          <SelectField name="status" label="Status" placeholder="All statuses" options={ESCALATION_STATUS} value={filters.status} onInput={set('status')} required />
          <SelectField name="severity" label="Severity" placeholder="All severities" options={SEVERITY} value={filters.severity} onInput={set('severity')} required />
          <SelectField name="rule" label="Reason" placeholder="All reasons" options={RULE} value={filters.rule} onInput={set('rule')} required />
          <SelectField name="age" label="Raised" placeholder="Any time" options={RAISED} value={filters.age} onInput={set('age')} required />
          <TextField name="patient" type="search" label="Patient" hint="Part of the name" value={filters.patient} onInput={set('patient')} markOptional={false} />
        </div>
      )}
      <Notice kind="success">{message}</Notice>
      {id ? null : <p class="hint" aria-live="polite">{d ? `${list.length} escalation${list.length === 1 ? '' : 's'} for ${groups.length} patient${groups.length === 1 ? '' : 's'}, most urgent first` : 'Loading…'}</p>}
      {!id && canAct && openShown.length ? (
        <div class="actions bulk">
          <button type="button" class="button button--secondary" onClick={() => setSelected(new Set(openShown.map((e) => e.id)))}>Select all {openShown.length} open</button>
          <button type="button" class="button" disabled={!chosen.length} onClick={acknowledgeChosen}>Acknowledge {chosen.length} selected</button>
        </div>
      ) : null}
      {d && list.length === 0 ? <Empty>{id ? 'This escalation is not on this device. Sync now, or it may be for a patient no longer on your caseload.' : 'No escalations match.'}</Empty> : null}
      {visibleGroups.map(({ patientId, items }) => {
        const patient = d.patients.get(patientId);
        const headingId = `patient-${patientId}-escalations`;
        return (
          <section class="section" key={patientId} aria-labelledby={headingId}>
            <h2 id={headingId}>{patient ? fullName(patient) : 'Patient not on this device'} <span class="hint">({items.length})</span></h2>
            <ul class="cards">
              {items.map((e) => (
                <EscalationCard key={e.id} e={e} patient={patient} canAct={canAct} onMessage={setMessage}
                  selected={selected.has(e.id)} onSelect={id ? null : toggle(e.id)} />
              ))}
            </ul>
          </section>
        );
      })}
      {list.length > count ? (
        <button type="button" class="button button--secondary" onClick={() => setLimit(limit + PAGE)}>Show more ({list.length - count} not shown)</button>
      ) : null}
    </Page>
  );
}
