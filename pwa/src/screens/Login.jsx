/** Sign in. Signing in needs a connection. (Enrolling with an invite code: Enrol.jsx.) */
import { useState } from 'preact/hooks';
import { Page, Notice } from '../components/Page.jsx';
import { TextField, useForm } from '../components/fields.jsx';
import { login, defaultDeviceName, OwnerMismatch } from '../lib/session.js';
import { ApiError, NetworkError } from '../lib/api.js';
import { SignedOutNotice, DiscardUnsentChanges } from '../components/UnsentChanges.jsx';
import { UnreadableChanges } from './Lock.jsx';

function explain(err) {
  if (err instanceof NetworkError) return 'You need a connection to sign in. Try again when you are online.';
  if (err instanceof ApiError && err.status === 429) return 'Too many attempts. Wait 15 minutes and try again.';
  if (err instanceof ApiError && err.status === 401) return 'The username or password is not right.';
  if (err instanceof ApiError) return err.message;
  return err.message || String(err);
}

export function Login({ onSignedIn, reason }) {
  const form = useForm({ username: '', password: '', device: defaultDeviceName() });
  const [error, setError] = useState('');
  const [mismatch, setMismatch] = useState(null);
  const [lost, setLost] = useState(null); // sealed unsent changes no key opens (vault.js)
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setMismatch(null);
    setLost(null);
    try {
      onSignedIn(await login({ username: form.values.username, password: form.values.password, deviceName: form.values.device }));
    } catch (err) {
      if (err instanceof OwnerMismatch) setMismatch(err);
      if (err.code === 'key-lost') setLost(err);
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Sign in to Doorstep">
      <SignedOutNotice reason={reason} />
      <form class="stack narrow" onSubmit={submit}>
        <TextField name="username" label="Username" autoComplete="username" autoCapitalize="none" spellcheck={false} value={form.values.username} onInput={form.set('username')} required />
        <TextField name="password" type="password" label="Password" autoComplete="current-password" value={form.values.password} onInput={form.set('password')} required />
        <TextField name="device" label="Name of this device" hint="Helps you recognise it in the device list, for example: Blue team tablet 3" value={form.values.device} onInput={form.set('device')} required maxLength={100} />
        <button class="button" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <Notice kind="error">{error}</Notice>
        {mismatch ? <DiscardUnsentChanges owner={mismatch.owner} waiting={mismatch.waiting} onDone={() => { setMismatch(null); setError(''); }} /> : null}
        {lost ? <UnreadableChanges lost={lost} onDone={() => { setLost(null); setError(''); }} /> : null}
      </form>
      <p><a href="/enrol">I have an invitation code</a></p>
      <p><a href="/fall">I’ve had a fall</a></p>
    </Page>
  );
}
