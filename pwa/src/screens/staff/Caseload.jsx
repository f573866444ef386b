/** Nurse and coordinator: the caseload, searchable by name, NHS number or postcode. */
import { useState } from 'preact/hooks';
import { Page, Empty } from '../../components/Page.jsx';
import { FallsBadge, ActivationBadge } from '../../components/Badge.jsx';
import { TextField } from '../../components/fields.jsx';
import { useLive } from '../../lib/hooks.js';
import { all, latestByPatient } from '../../lib/queries.js';
import { fallsResultOf, activationOf, isValidNhsNumber } from '../../lib/instruments.js';
import { formatNhsNumber, formatDate, fullName } from '../../lib/format.js';

async function caseload() {
  const [patients, falls, activation] = await Promise.all([
    all('patient'), latestByPatient('falls_assessment', 'assessed_at'), latestByPatient('activation_score', 'assessed_at'),
  ]);
  return patients
    .map((patient) => ({ patient, falls: falls.get(patient.id), activation: activation.get(patient.id) }))
    .sort((a, b) => `${a.patient.data.family_name} ${a.patient.data.given_name}`.localeCompare(`${b.patient.data.family_name} ${b.patient.data.given_name}`));
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

export function Caseload() {
  const rows = useLive(caseload, [], null);
  const [query, setQuery] = useState('');
  const shown = (rows || []).filter((row) => matchesSearch(row.patient, query));
  return (
    <Page title="Caseload">
      <div role="search">
        <TextField name="q" label="Search patients" hint="Name, NHS number or postcode" value={query} onInput={setQuery} type="search" required autoComplete="off" />
      </div>
      <p aria-live="polite" class="hint">
        {rows ? `${shown.length} of ${rows.length} patients` : 'Loading…'}
        {notAnNhsNumber(query) ? '. The number searched for is not a valid NHS number (check digit): check it was typed correctly.' : ''}
      </p>
      {rows && shown.length === 0 ? <Empty>No patients match.</Empty> : null}
      <ul class="cards">
        {shown.map(({ patient, falls, activation }) => {
          const result = falls ? fallsResultOf(falls) : null;
          const act = activation ? activationOf(activation) : null;
          return (
            <li class="card" key={patient.id}>
              <a class="card__link" href={`/patients/${patient.id}`}><span class="card__title">{fullName(patient)}</span></a>
              <p class="card__meta">
                NHS {formatNhsNumber(patient.data.nhs_number)}
                {patient.data.date_of_birth ? ` · born ${formatDate(patient.data.date_of_birth)}` : ''}
                {patient.data.postcode ? ` · ${patient.data.postcode}` : ''}
              </p>
              <p class="card__badges">
                <FallsBadge level={result && result.risk_level} local={result && result.local} />{' '}
                <ActivationBadge level={act && act.level} mismatch={act && act.level_mismatch} />
              </p>
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
