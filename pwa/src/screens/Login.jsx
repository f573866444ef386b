/** Sign in (and enrol with an invite code). Signing in needs a connection. */
import { useState } from 'preact/hooks';
import { Page, Notice } from '../components/Page.jsx';
import { TextField, Checkbox, useForm } from '../components/fields.jsx';
import { login, defaultDeviceName, OwnerMismatch } from '../lib/session.js';
import { api, ApiError, NetworkError } from '../lib/api.js';
import { wipeAll } from '../lib/db.js';
import { UnreadableChanges } from './Lock.jsx';

function explain(err) {
  if (err instanceof NetworkError) return 'You need a connection to sign in. Try again when you are online.';
  if (err instanceof ApiError && err.status === 429) return 'Too many attempts. Wait 15 minutes and try again.';
  if (err instanceof ApiError && err.status === 401) return 'The username or password is not right.';
  if (err instanceof ApiError) return err.message;
  return err.message || String(err);
}

function DiscardOtherUsersChanges({ mismatch, onDone }) {
  const [sure, setSure] = useState(false);
  return (
    <div class="panel stack">
      <p>If {mismatch.owner.display_name || mismatch.owner.username} cannot sign in, their unsent changes can be removed from this device. They will be lost.</p>
      <Checkbox label={`I understand: delete ${mismatch.waiting} unsent change(s) from this device`} checked={sure} onInput={setSure} />
      <button type="button" class="button button--warning" disabled={!sure} onClick={async () => { await wipeAll(); onDone(); }}>Delete unsent changes</button>
    </div>
  );
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
      {reason === 'revoked' ? <Notice kind="warning">This device was revoked, so its Doorstep data has been removed. Sign in again to use it.</Notice> : null}
      {reason === 'expired' ? <Notice kind="info">Your session has ended. Sign in again; changes not yet sent are kept on this device.</Notice> : null}
      <form class="stack narrow" onSubmit={submit}>
        <TextField name="username" label="Username" autoComplete="username" autoCapitalize="none" spellcheck={false} value={form.values.username} onInput={form.set('username')} required />
        <TextField name="password" type="password" label="Password" autoComplete="current-password" value={form.values.password} onInput={form.set('password')} required />
        <TextField name="device" label="Name of this device" hint="Helps you recognise it in the device list, for example: Blue team tablet 3" value={form.values.device} onInput={form.set('device')} required maxLength={100} />
        <button class="button" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <Notice kind="error">{error}</Notice>
        {mismatch ? <DiscardOtherUsersChanges mismatch={mismatch} onDone={() => { setMismatch(null); setError(''); }} /> : null}
        {lost ? <UnreadableChanges lost={lost} onDone={() => { setLost(null); setError(''); }} /> : null}
      </form>
      <p><a href="/enrol">I have an invitation code</a></p>
      <p><a href="/fall">I’ve had a fall</a></p>
    </Page>
  );
}

export function Enrol({ onSignedIn }) {
  const form = useForm({ code: '', display_name: '', username: '', password: '' });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const { code, display_name: displayName, username, password } = form.values;
      await api('/auth/enrol', { method: 'POST', auth: false, body: { code: code.trim(), display_name: displayName.trim(), username: username.trim(), password } });
      onSignedIn(await login({ username, password }));
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Set up your account" lead="Use the invitation code your nurse or care co-ordinator gave you.">
      <form class="stack narrow" onSubmit={submit}>
        <TextField name="code" label="Invitation code" autoComplete="one-time-code" autoCapitalize="characters" value={form.values.code} onInput={form.set('code')} required />
        <TextField name="display_name" label="Your name" autoComplete="name" value={form.values.display_name} onInput={form.set('display_name')} required />
        <TextField name="username" label="Choose a username" autoComplete="username" autoCapitalize="none" value={form.values.username} onInput={form.set('username')} required minLength={3} />
        <TextField name="password" type="password" label="Choose a password" autoComplete="new-password" value={form.values.password} onInput={form.set('password')} required />
        <button class="button" type="submit" disabled={busy}>{busy ? 'Setting up…' : 'Set up account'}</button>
        <Notice kind="error">{error}</Notice>
      </form>
      <p><a href="/login">Back to sign in</a></p>
    </Page>
  );
}
