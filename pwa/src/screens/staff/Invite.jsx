/**
 * Staff: invite a patient or carer to use the app (SPEC §7). The server makes a
 * one-time code (valid 7 days); the nurse sees it in large characters to read aloud or
 * write down, its expiry, and a QR code of the enrolment address with the code in it.
 * Making a code needs a connection (the server keeps only its hash).
 */
import { useState } from 'preact/hooks';
import { Page, Section, Notice } from '../../components/Page.jsx';
import { TextField, Radios, ErrorSummary, useForm } from '../../components/fields.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { QrCode } from '../../components/QrCode.jsx';
import { api, ApiError, NetworkError } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';

const ROLE_OPTIONS = { patient: 'The patient', carer: 'A carer (family member, friend or paid carer)' };
const CONSENT = {
  patient_consent: 'The patient consents',
  lasting_power_of_attorney: 'Lasting power of attorney (health and welfare)',
  best_interests: 'Best interests decision (patient lacks capacity)',
};

/** The address a new user opens to enrol, with the code filled in. */
export const enrolUrl = (code) => `${location.origin}/enrol?code=${encodeURIComponent(code)}`;

function InviteMade({ invite, role, onAnother }) {
  const url = enrolUrl(invite.code);
  return (
    <Section title="Invitation code" id="code">
      <Notice kind="success">Code made for {role === 'carer' ? 'the carer' : 'the patient'}. It works once.</Notice>
      <p class="invite-code">{invite.code}</p>
      <p class="invite-expiry">Valid until <strong>{formatDateTime(invite.expires_at)}</strong>. After that, or once used, make a new one.</p>
      <h3>How to give it</h3>
      <ul>
        <li>Read it out or write it down: letters and numbers only, no 0, O, 1, I or L. Dashes do not matter.</li>
        <li>Or let them scan the QR code with their phone’s camera: it opens the set-up page with the code filled in.</li>
        <li>They open <strong>{location.origin}/enrol</strong>, enter the code, and choose a username and password.</li>
      </ul>
      <QrCode text={url} label="QR code that opens the set-up page with this code" />
      <p class="hint">The QR code opens <span class="invite-url">{url}</span> (it can also be sent as a link).</p>
      <p><button type="button" class="button button--secondary" onClick={onAnother}>Make another invitation</button></p>
    </Section>
  );
}

export function Invite({ patientId }) {
  const form = useForm({ role: 'patient', relationship: '', consent_basis: '' });
  const [invite, setInvite] = useState(null);
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);
  const { values, set, errors, setErrors } = form;
  const carer = values.role === 'carer';
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setFailure('');
    setErrors({});
    const body = carer ? { role: 'carer', relationship: values.relationship.trim(), consent_basis: values.consent_basis } : { role: 'patient' };
    if (carer && !body.relationship) delete body.relationship;
    if (carer && !body.consent_basis) delete body.consent_basis;
    try {
      setInvite({ ...(await api(`/patients/${encodeURIComponent(patientId)}/invites`, { method: 'POST', body })), role: values.role });
    } catch (err) {
      if (err instanceof NetworkError) setFailure('Making a code needs a connection. Try again when this device is online.');
      else if (err instanceof ApiError) { setFailure(err.message); setErrors(err.errors || {}); } else setFailure(String(err.message || err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Invite to the app">
      <PatientBanner patientId={patientId} />
      {invite ? <InviteMade invite={invite} role={invite.role} onAnother={() => { setInvite(null); form.setValues({ role: 'patient', relationship: '', consent_basis: '' }); }} /> : (
        <form class="stack" onSubmit={submit} noValidate>
          <p>The person gets a one-time code to set up their own account. Patients see their goals, reminders and visit times; carers see the same for this patient, never clinical notes or assessments.</p>
          <ErrorSummary errors={errors} />
          <Radios name="role" label="Who is the invitation for?" options={ROLE_OPTIONS} value={values.role} onInput={set('role')} error={errors.role} />
          {carer ? (
            <>
              <TextField name="relationship" label="Relationship to the patient" hint="For example: daughter, husband, neighbour, paid carer" value={values.relationship} onInput={set('relationship')} required maxLength={60} error={errors.relationship} />
              <Radios name="consent_basis" label="Basis for sharing with this carer" options={CONSENT} value={values.consent_basis} onInput={set('consent_basis')} error={errors.consent_basis} />
            </>
          ) : null}
          <button class="button" type="submit" disabled={busy}>{busy ? 'Making the code…' : 'Make invitation code'}</button>
          <Notice kind="error">{failure}</Notice>
        </form>
      )}
    </Page>
  );
}
