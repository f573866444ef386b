/**
 * The patient banner, as on SystmOne or EMIS: who this is and what to know at the door,
 * on every patient, visit and assessment screen. Everything comes from the device's own
 * database (IndexedDB), so it shows offline. Insert it with one line:
 * `<PatientBanner patientId={id} />`.
 */
import { FallsBadge, ActivationBadge, SeverityBadge, PendingBadge } from './Badge.jsx';
import { Icon } from './Page.jsx';
import { useLive } from '../lib/hooks.js';
import { one, ofPatient, notVoided, sortNewest } from '../lib/queries.js';
import { fallsResultOf, activationOf } from '../lib/instruments.js';
import { formatNhsNumber, formatDate, ageOn } from '../lib/format.js';
import { RULE, SEVERITY_ORDER, label } from '../lib/labels.js';

/** Surname in capitals first, as clinical systems show it: "CRAWLEY, Edith". */
export function bannerName(data) {
  return [String(data.family_name || '').toUpperCase(), data.given_name].filter(Boolean).join(', ') || 'Unnamed patient';
}

/** A phone number as a tel: address (digits and a leading +). */
export const telHref = (phone) => `tel:${String(phone).replace(/[^\d+]/g, '')}`;

async function loadBanner(patientId) {
  const [patient, falls, scores, escalations] = await Promise.all([
    one('patient', patientId), ofPatient('falls_assessment', patientId),
    ofPatient('activation_score', patientId), ofPatient('escalation', patientId),
  ]);
  const latest = (records) => sortNewest(records.filter(notVoided), 'assessed_at')[0] || null;
  const open = escalations.filter((e) => e.data.status === 'open')
    .sort((a, b) => (SEVERITY_ORDER[a.data.severity] ?? 9) - (SEVERITY_ORDER[b.data.severity] ?? 9));
  return { patient, falls: latest(falls), score: latest(scores), open };
}

export function PatientBanner({ patientId }) {
  const d = useLive(() => loadBanner(patientId), [patientId], null);
  if (d === null) return <div class="patient-banner" aria-busy="true"><p>Loading patient details…</p></div>;
  if (!d.patient) return <div class="patient-banner"><p>This patient’s details are not on this device.</p></div>;
  const p = d.patient.data;
  const age = ageOn(p.date_of_birth);
  const falls = d.falls ? fallsResultOf(d.falls) : null;
  const act = d.score ? activationOf(d.score) : null;
  return (
    <section class="patient-banner" aria-label="Patient banner">
      <p class="patient-banner__name">{bannerName(p)} <PendingBadge record={d.patient} /></p>
      <dl class="patient-banner__facts">
        <div><dt>Born</dt><dd>{p.date_of_birth ? `${formatDate(p.date_of_birth)}${age !== null ? ` (${age} years)` : ''}` : 'Not recorded'}</dd></div>
        <div><dt>NHS number</dt><dd class="patient-banner__nhs">{formatNhsNumber(p.nhs_number)}</dd></div>
        <div class="patient-banner__wide"><dt>Address</dt><dd>{[p.address, p.postcode].filter(Boolean).join(', ') || 'Not recorded'}</dd></div>
        <div><dt>Phone</dt><dd>{p.phone ? <a class="patient-banner__tel" href={telHref(p.phone)}><Icon name="phone" /> Call {p.phone}</a> : 'Not recorded'}</dd></div>
        <div class="patient-banner__wide"><dt>Access</dt><dd>{p.access_notes || 'No access notes'}</dd></div>
      </dl>
      <p class="card__badges">
        <FallsBadge level={falls && falls.risk_level} local={falls && falls.local} />
        <ActivationBadge level={act && act.level} mismatch={act && act.level_mismatch} />
      </p>
      {d.open.length ? (
        <div class="patient-banner__alerts">
          <p class="patient-banner__alerts-title"><Icon name="warning" /> {d.open.length} open escalation{d.open.length === 1 ? '' : 's'}</p>
          <ul class="plain">
            {d.open.map((e) => (
              <li key={e.id}><SeverityBadge severity={e.data.severity} /> <a href={`/escalations/${e.id}`}>{label(RULE, e.data.rule)}</a></li>
            ))}
          </ul>
        </div>
      ) : <p class="patient-banner__none">No open escalations</p>}
    </section>
  );
}
