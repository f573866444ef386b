/**
 * "I've had a fall" (and other self reports). The 999 advice is the first thing on
 * the screen, is constant text in the app shell and never waits for data, sign-in or
 * a connection.
 */
import { useState } from 'preact/hooks';
import { Page, Notice, Icon } from '../../components/Page.jsx';
import { TextField, YesNo, SelectField, ErrorSummary, useForm } from '../../components/fields.jsx';
import { useLive } from '../../lib/hooks.js';
import { createRecord } from '../../lib/outbox.js';
import { toLocalInput, fromLocalInput, fullName } from '../../lib/format.js';
import { SELF_REPORT_KIND } from '../../lib/labels.js';
import { myPatients } from './context.js';
import { PatientPicker, NoPatient } from './PatientPicker.jsx';

export function EmergencyAdvice() {
  return (
    <div class="emergency" role="alert">
      <p class="emergency__text"><strong>If you are hurt or cannot get up, call 999.</strong></p>
      <a class="button button--emergency" href="tel:999"><Icon name="phone" /> Call 999</a>
    </div>
  );
}

function ReportForm({ user, kind }) {
  const ctx = useLive(() => myPatients(user), [user.id], null);
  const form = useForm({ kind, happened_at: toLocalInput(new Date().toISOString()), injured: null, got_up_alone: null, details: '' });
  const [tried, setTried] = useState(false);
  const [sent, setSent] = useState('');
  const { values, set } = form;
  const isFall = values.kind === 'fall';
  const errors = {};
  if (isFall && values.injured === null) errors.injured = 'Answer yes or no.';
  if (isFall && values.got_up_alone === null) errors.got_up_alone = 'Answer yes or no.';
  if (!isFall && !values.details.trim()) errors.details = 'Tell us briefly what is happening.';
  if (ctx === null) return <p>Loading…</p>;
  if (!ctx.current) return <NoPatient user={user} />;
  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(errors).length) return;
    await createRecord('self_report', {
      patient_id: ctx.current.id, kind: values.kind, happened_at: fromLocalInput(values.happened_at),
      injured: isFall ? values.injured : false,
      // Asked the positive way round (no double negative); stored as the data dictionary's field.
      unable_to_get_up: isFall ? !values.got_up_alone : false, details: values.details.trim(),
    });
    setSent(navigator.onLine
      ? 'Saved and being sent to the care team now. Someone will contact you.'
      : 'Saved on this device. It goes to your care team as soon as you are back online. If you need help now, call 999. If it is not an emergency, call 111.');
    form.setValues({ ...values, details: '', injured: null, got_up_alone: null });
    setTried(false);
  };
  const shown = tried ? errors : {};
  // A carer reports about the person they care for, a patient about themselves.
  const carer = user.role === 'carer';
  const who = carer ? fullName(ctx.current).split(' ')[0] : 'you';
  return (
    <form class="stack" onSubmit={submit} noValidate>
      <PatientPicker ctx={ctx} />
      <ErrorSummary errors={shown} />
      {kind !== 'fall' ? <SelectField name="kind" label="What do you want to tell us about?" options={SELF_REPORT_KIND} value={values.kind} onInput={set('kind')} required /> : null}
      <TextField name="happened_at" type="datetime-local" label="When did it happen?" value={values.happened_at} onInput={set('happened_at')} required />
      {isFall ? (
        <>
          <YesNo name="injured" label={carer ? `Was ${who} hurt?` : 'Were you hurt?'} value={values.injured} onInput={set('injured')} required error={shown.injured} />
          <YesNo name="got_up_alone" label={carer ? `Could ${who} get up on their own?` : 'Could you get up on your own?'} value={values.got_up_alone} onInput={set('got_up_alone')} required error={shown.got_up_alone} />
        </>
      ) : null}
      <TextField name="details" label="What happened?" multiline value={values.details} onInput={set('details')} required={!isFall} error={shown.details} />
      <button class="button button--huge" type="submit">{carer ? 'Tell the care team' : 'Tell my care team'}</button>
      <Notice kind="success">{sent}</Notice>
    </form>
  );
}

export function Report({ user, kind = 'fall' }) {
  // A carer reports someone else's fall: their heading matches their menu ("Report a fall").
  const carer = Boolean(user && user.role === 'carer');
  return (
    <Page title={kind === 'fall' ? (carer ? 'Report a fall' : 'I’ve had a fall') : (carer ? 'Tell the care team' : 'Tell my care team')}>
      {kind === 'fall' ? <EmergencyAdvice /> : <p class="emergency__text">In an emergency, call 999.</p>}
      {user && ['patient', 'carer'].includes(user.role) ? <ReportForm user={user} kind={kind} /> : (
        !user ? <p><a href="/login">Sign in</a> to tell your care team about it.</p> : null
      )}
    </Page>
  );
}
