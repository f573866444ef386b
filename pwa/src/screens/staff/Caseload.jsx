/**
 * Nurse and coordinator: the caseload. Search by name, NHS number (with or without
 * spaces) or postcode; show my patients or a team's; sort by name, next visit or falls
 * risk; each row has the next and last visit. Rows are paged (PAGE at a time) so a
 * caseload of hundreds renders and scrolls smoothly on a phone.
 *
 * "My patients": those I am the named care co-ordinator of, or who have a visit assigned
 * to me from MY_VISITS_DAYS ago onwards (booked ahead included) — the people on my list.
 *
 * With ?book=visit (from Today's "Book a visit") each row leads to booking a visit.
 */
import { useState } from 'preact/hooks';
import { Page, Empty, Notice } from '../../components/Page.jsx';
import { FallsBadge, ActivationBadge } from '../../components/Badge.jsx';
import { TextField, SelectField, Radios } from '../../components/fields.jsx';
import { useLive } from '../../lib/hooks.js';
import { all, latestByPatient } from '../../lib/queries.js';
import { queryParam } from '../../lib/router.js';
import { nextAndLast } from '../../lib/visits.js';
import { fallsResultOf, activationOf, isValidNhsNumber } from '../../lib/instruments.js';
import { formatNhsNumber, formatDate, formatDateTime, fullName, addDays, localDate } from '../../lib/format.js';

export const PAGE = 50;
const MY_VISITS_DAYS = 28;
const RISK_RANK = { high: 0, intermediate: 1, low: 2 };

const SORTS = { name: 'Name', next_visit: 'Next visit (soonest first)', risk: 'Falls risk (highest first)' };

function groupBy(records, key) {
  const out = new Map();
  for (const r of records) {
    const k = key(r);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(r);
  }
  return out;
}

async function caseload(userId) {
  const [patients, falls, activation, visits] = await Promise.all([
    all('patient'), latestByPatient('falls_assessment', 'assessed_at'), latestByPatient('activation_score', 'assessed_at'), all('visit'),
  ]);
  const visitsOf = groupBy(visits, (v) => v.patient_id);
  const since = addDays(localDate(), -MY_VISITS_DAYS);
  return patients.map((patient) => {
    const own = visitsOf.get(patient.id) || [];
    const fallsResult = falls.get(patient.id) ? fallsResultOf(falls.get(patient.id)) : null;
    const act = activation.get(patient.id) ? activationOf(activation.get(patient.id)) : null;
    const mine = patient.data.care_coordinator_id === userId
      || own.some((v) => v.data.assigned_to === userId && v.data.status !== 'cancelled' && String(v.data.scheduled_start || '') >= since);
    return { patient, fallsResult, act, mine, ...nextAndLast(own), sortName: `${patient.data.family_name || ''} ${patient.data.given_name || ''}`.toLowerCase() };
  });
}

export function matchesSearch(patient, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const data = patient.data;
  const digits = q.replace(/[\s-]/g, '');
  if (/^\d+$/.test(digits) && String(data.nhs_number || '').includes(digits)) return true;
  const squash = (s) => String(s || '').toLowerCase().replace(/\s/g, '');
  if (squash(data.postcode).startsWith(q.replace(/\s/g, ''))) return true;
  return fullName(patient).toLowerCase().includes(q) || `${data.family_name || ''} ${data.given_name || ''}`.toLowerCase().includes(q);
}

/** Ten digits that fail the Modulus 11 check: almost certainly mistyped. */
export function notAnNhsNumber(query) {
  const digits = query.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(digits) && !isValidNhsNumber(digits);
}

const COMPARE = {
  name: (a, b) => a.sortName.localeCompare(b.sortName),
  // Patients with nothing booked go last; ties by name.
  next_visit: (a, b) => String(a.next?.data.scheduled_start || '\uffff').localeCompare(String(b.next?.data.scheduled_start || '\uffff')) || COMPARE.name(a, b),
  risk: (a, b) => (RISK_RANK[a.fallsResult?.risk_level] ?? 3) - (RISK_RANK[b.fallsResult?.risk_level] ?? 3) || COMPARE.name(a, b),
};

/** Teams offered in the filter: the user's own (names when the session has them). */
function teamOptions(user) {
  const ids = user.team_ids || [];
  const names = user.team_names || {};
  return { all: ids.length > 1 ? 'All my teams' : 'My team', ...Object.fromEntries(ids.length > 1 ? ids.map((id, i) => [id, names[id] || `Team ${i + 1}`]) : []) };
}

function Row({ row, book }) {
  const { patient, fallsResult, act, next, last } = row;
  return (
    <li class="card">
      <a class="card__link" href={book ? `/patients/${patient.id}/visits/new` : `/patients/${patient.id}`}>
        <span class="card__title">{fullName(patient)}</span>
        {book ? <span class="visually-hidden">: book a visit</span> : null}
      </a>
      <p class="card__meta">
        NHS {formatNhsNumber(patient.data.nhs_number)}
        {patient.data.date_of_birth ? ` · born ${formatDate(patient.data.date_of_birth)}` : ''}
        {patient.data.postcode ? ` · ${patient.data.postcode}` : ''}
      </p>
      <p class="card__meta caseload__visits">
        <span>Next visit: {next ? formatDateTime(next.data.scheduled_start) : 'none booked'}</span>
        <span>Last visit: {last ? formatDate(last.data.scheduled_start) : 'none'}</span>
      </p>
      <p class="card__badges">
        <FallsBadge level={fallsResult && fallsResult.risk_level} local={fallsResult && fallsResult.local} />{' '}
        <ActivationBadge level={act && act.level} mismatch={act && act.level_mismatch} />
      </p>
    </li>
  );
}

export function Caseload({ user }) {
  const rows = useLive(() => caseload(user.id), [user.id], null);
  const [query, setQuery] = useState('');
  const [who, setWho] = useState('all');
  const [team, setTeam] = useState('all');
  const [sort, setSort] = useState('name');
  const [pages, setPages] = useState(1);
  const book = queryParam('book') === 'visit';
  const teams = teamOptions(user);
  const reset = (setter) => (value) => { setter(value); setPages(1); };
  const shown = (rows || [])
    .filter((row) => (who === 'mine' ? row.mine : true))
    .filter((row) => team === 'all' || row.patient.data.team_id === team)
    .filter((row) => matchesSearch(row.patient, query))
    .sort(COMPARE[sort]);
  const visible = shown.slice(0, pages * PAGE);
  return (
    <Page title={book ? 'Book a visit' : 'Caseload'}>
      {book ? <Notice kind="info">Choose the patient to book a visit for.</Notice> : null}
      <div role="search" class="caseload__search">
        <TextField name="q" label="Search patients" hint="Name, NHS number (with or without spaces) or postcode" value={query} onInput={reset(setQuery)} type="search" required autoComplete="off" />
      </div>
      <div class="filters">
        <Radios name="who" label="Show" inline value={who} onInput={reset(setWho)}
          options={{ all: 'All patients', mine: 'My patients' }}
          hint="My patients: you are their care co-ordinator, or have a visit with them in the last 4 weeks or booked ahead." />
        {Object.keys(teams).length > 1 ? <SelectField name="team" label="Team" options={teams} value={team} onInput={reset(setTeam)} required /> : null}
        <SelectField name="sort" label="Sort by" options={SORTS} value={sort} onInput={reset(setSort)} required />
      </div>
      <p aria-live="polite" class="hint">
        {rows ? `${shown.length} of ${rows.length} patients` : 'Loading…'}
        {notAnNhsNumber(query) ? '. The number searched for is not a valid NHS number (check digit): check it was typed correctly.' : ''}
      </p>
      {rows && shown.length === 0 ? <Empty>No patients match.</Empty> : null}
      <ul class="cards">{visible.map((row) => <Row key={row.patient.id} row={row} book={book} />)}</ul>
      {shown.length > visible.length ? (
        <p>
          <button type="button" class="button button--secondary" onClick={() => setPages(pages + 1)}>
            Show {Math.min(PAGE, shown.length - visible.length)} more ({visible.length} of {shown.length} shown)
          </button>
        </p>
      ) : null}
    </Page>
  );
}
