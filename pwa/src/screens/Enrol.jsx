/**
 * Enrol with an invitation code (SPEC §7): create the account, then sign in. The code
 * may come in the address (?code=…, from the nurse's QR code). Errors say what is wrong
 * and where: the server's message at the top, each field's own problem under it.
 * Enrolling needs a connection.
 */
import { useState } from 'preact/hooks';
import { Page, Notice } from '../components/Page.jsx';
import { TextField, useForm } from '../components/fields.jsx';
import { login } from '../lib/session.js';
import { api, ApiError, NetworkError } from '../lib/api.js';
import { queryParam } from '../lib/router.js';

const FIELDS = ['code', 'display_name', 'username', 'password'];

/** {message, fieldErrors} a person can act on, from what went wrong. */
export function explainEnrolment(err) {
  if (err instanceof NetworkError) return { message: 'You need a connection to set up your account. Try again when you are online.', fieldErrors: {} };
  if (err instanceof ApiError && err.status === 429) return { message: 'Too many wrong codes. Wait 15 minutes and try again.', fieldErrors: {} };
  if (err instanceof ApiError) {
    const fieldErrors = Object.fromEntries(Object.entries(err.errors || {}).filter(([field]) => FIELDS.includes(field)));
    return { message: err.message, fieldErrors };
  }
  return { message: err.message || String(err), fieldErrors: {} };
}

export function Enrol({ onSignedIn }) {
  const form = useForm({ code: queryParam('code') || '', display_name: '', username: '', password: '' });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const { values, set, errors, setErrors } = form;
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      const { code, display_name: displayName, username, password } = values;
      await api('/auth/enrol', { method: 'POST', auth: false, body: { code: code.trim(), display_name: displayName.trim(), username: username.trim(), password } });
      onSignedIn(await login({ username: username.trim(), password }));
    } catch (err) {
      const { message, fieldErrors } = explainEnrolment(err);
      setError(message);
      setErrors(fieldErrors);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Set up your account" lead="Use the invitation code your nurse or care co-ordinator gave you.">
      <form class="stack narrow" onSubmit={submit}>
        <Notice kind="error">{error}</Notice>
        <TextField name="code" label="Invitation code" hint="12 letters and numbers, for example ABCD-EFGH-JKMN" autoComplete="one-time-code" autoCapitalize="characters" value={values.code} onInput={set('code')} required error={errors.code} />
        <TextField name="display_name" label="Your name" autoComplete="name" value={values.display_name} onInput={set('display_name')} required error={errors.display_name} />
        <TextField name="username" label="Choose a username" hint="At least 3 letters or numbers" autoComplete="username" autoCapitalize="none" value={values.username} onInput={set('username')} required minLength={3} error={errors.username} />
        <TextField name="password" type="password" label="Choose a password" hint="If it is too short, we will tell you when you press Set up account" autoComplete="new-password" value={values.password} onInput={set('password')} required error={errors.password} />
        <button class="button" type="submit" disabled={busy}>{busy ? 'Setting up…' : 'Set up account'}</button>
      </form>
      <p><a href="/login">Back to sign in</a></p>
    </Page>
  );
}
