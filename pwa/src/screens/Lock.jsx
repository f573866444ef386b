/**
 * The lock (docs/security.md): nothing of a person's store is shown until it is
 * unlocked — with the PIN (works offline) or a password sign-in (online). LockGate wraps
 * the whole app: it unmounts every screen before the keys are dropped, asks a person
 * who just signed in to choose a PIN, and locks after the idle or hidden time.
 */
import { useEffect, useState } from 'preact/hooks';
import { Page, Notice, Section } from '../components/Page.jsx';
import { Checkbox, TextField } from '../components/fields.jsx';
import { on } from '../lib/events.js';
import { db, people, setCurrentStore } from '../lib/db.js';
import { watchForLock } from '../lib/autolock.js';
import {
  MIN_PIN_DIGITS, MIN_PASSPHRASE, VaultError, confirmOnline, hasPin, isUnlocked, lock, needsPin, onRevoked, pinProblem,
  role as vaultRole, setPin, startupState, unlockWithPin, discardUnreadable,
} from '../lib/vault.js';

const isPerson = (role) => role === 'patient' || role === 'carer';
const REASONS = {
  'pin-disabled': 'The PIN was switched off after too many wrong tries. Sign in with your password to unlock; your unsent changes are kept and will be sent.',
  'offline-expired': 'This device has not been online for a while, so the PIN alone cannot unlock it. Sign in with your password; your unsent changes are kept.',
};
// The same reasons for patients and carers, in everyday words.
const PERSON_REASONS = {
  'pin-disabled': 'The PIN was switched off after too many wrong tries. Sign in with your password instead. Nothing you saved is lost.',
  'offline-expired': 'This device has not been online for a while, so the PIN alone cannot open Doorstep. Sign in with your password instead. Nothing you saved is lost.',
};

/** A PIN field; for patients and carers with a large on-screen keypad. */
function PinField({ name, label, value, onInput, large, hint, autoComplete }) {
  const press = (key) => onInput(key === 'delete' ? value.slice(0, -1) : `${value}${key}`);
  return (
    <div class={large ? 'pin pin--large' : 'pin'}>
      <TextField name={name} type="password" label={label} hint={hint} value={value} onInput={onInput}
        autoComplete={autoComplete} inputMode={large ? 'numeric' : undefined} required />
      {large ? (
        <div class="pinpad" role="group" aria-label={`Keypad for ${label}`}>
          {['1', '2', '3', '4', '5', '6', '7', '8', '9', 'delete', '0'].map((key) => (
            <button key={key} type="button" class="pinpad__key" onClick={() => press(key)}>{key === 'delete' ? 'Delete' : key}</button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** Choose (or change) the PIN. For patients and carers `optional` offers going without. */
export function SetPin({ onDone, onCancel, optional = false }) {
  const large = isPerson(vaultRole());
  const [pin, setPinValue] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setError('');
    const problem = pinProblem(pin);
    if (problem) return setError(problem);
    if (pin !== again) return setError('The two PINs are not the same.');
    setBusy(true);
    try {
      await setPin(pin);
      if (onDone) onDone();
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const hint = large ? `At least ${MIN_PIN_DIGITS} digits.` : `At least ${MIN_PIN_DIGITS} digits, or a passphrase of at least ${MIN_PASSPHRASE} characters.`;
  return (
    <form class="stack narrow" onSubmit={submit}>
      <p>{large
        ? 'You will use your PIN to open Doorstep on this device, even without the internet. If you enter a wrong PIN 5 times, you will need your password.'
        : 'You will use it to unlock Doorstep on this device, also without a connection. After 5 wrong tries only your password unlocks it.'}</p>
      <PinField name="new-pin" label="New PIN" hint={hint} value={pin} onInput={setPinValue} large={large} autoComplete="new-password" />
      <PinField name="repeat-pin" label="Repeat the PIN" value={again} onInput={setAgain} large={large} autoComplete="new-password" />
      <Notice kind="error">{error}</Notice>
      <div class="actions">
        <button class="button" type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save PIN'}</button>
        {optional ? <button class="button button--secondary" type="button" disabled={busy} onClick={async () => { await setPin(null); if (onDone) onDone(); }}>Do not use a PIN</button> : null}
        {onCancel ? <button class="button button--secondary" type="button" onClick={onCancel}>Cancel</button> : null}
      </div>
    </form>
  );
}

function Unlock({ onUnlocked, onSignIn, onSwitch }) {
  const [pin, setPinValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [passwordOnly, setPasswordOnly] = useState(false);
  const [person, setPerson] = useState(null);
  const [others, setOthers] = useState([]);
  useEffect(() => {
    people().then((list) => {
      setPerson(list.find((p) => p.store === db.name) || null);
      setOthers(list.filter((p) => p.store !== db.name && p.display_name));
    });
  }, []);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await unlockWithPin(pin);
      await onUnlocked();
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      setPinValue('');
      setError((large && PERSON_REASONS[err.code]) || err.message);
      if (err.code !== 'wrong-pin') setPasswordOnly(true);
    } finally {
      setBusy(false);
    }
  };
  const large = person && isPerson(person.role);
  return (
    <Page title="Doorstep is locked" lead={person && person.display_name ? `Unlock as ${person.display_name}.` : 'Enter your PIN to unlock.'}>
      {passwordOnly ? null : (
        <form class={large ? 'stack narrow main--large' : 'stack narrow'} onSubmit={submit}>
          <PinField name="pin" label={large ? 'PIN' : 'PIN or passphrase'} value={pin} onInput={setPinValue} large={large} autoComplete="current-password" />
          <button class="button" type="submit" disabled={busy || !pin}>{busy ? 'Unlocking…' : 'Unlock'}</button>
        </form>
      )}
      <Notice kind="error">{error}</Notice>
      <div class="actions">
        <button type="button" class="button button--secondary" onClick={onSignIn}>Sign in with your password</button>
        {others.map((other) => (
          <button key={other.store} type="button" class="button button--secondary" onClick={() => onSwitch(other.store)}>Unlock as {other.display_name}</button>
        ))}
      </div>
      <p><a href="/fall">I’ve had a fall</a></p>
    </Page>
  );
}

/** Wraps the app: locked → the unlock screen only; open → the app (and the PIN step after a first sign-in). */
export function LockGate({ children }) {
  const [view, setView] = useState({ name: 'loading' });
  const [, rerender] = useState(0);
  // Whether this store is a patient's or carer's, known before it is unlocked (for the wording).
  const [personStore, setPersonStore] = useState(false);

  const opened = async () => {
    // Online, ask the server first: a revoked device must not show anything, even with the right PIN.
    const answer = navigator.onLine === false ? 'offline' : await confirmOnline();
    setView(answer === 'revoked' ? { name: 'revoked' } : { name: 'open' });
  };
  const start = async () => {
    const here = (await people()).find((p) => p.store === db.name);
    setPersonStore(Boolean(here && isPerson(here.role)));
    const state = await startupState();
    if (state.state === 'no-pin') {
      await unlockWithPin(null);
      await opened();
    } else if (state.state === 'locked') {
      setView({ name: 'locked' });
    } else {
      setView({ name: 'open', reason: state.reason });
    }
  };

  useEffect(() => {
    start().catch((err) => setView({ name: 'open', reason: err.message }));
    const offVault = on('vault', () => rerender((n) => n + 1));
    const offRevoked = on('revoked', () => { onRevoked(); });
    return () => { offVault(); offRevoked(); };
  }, []);

  // Lock only after the screens are gone (their cleanup stops sync), then drop the keys.
  useEffect(() => { if (view.name === 'locked' && isUnlocked()) lock(); }, [view.name]);

  const pinOn = view.name === 'open' && isUnlocked() && hasPin();
  useEffect(() => (pinOn ? watchForLock(() => setView({ name: 'locked' })) : undefined), [pinOn]);

  if (view.name === 'loading') return <main id="main" class="main"><p class="page">Loading…</p></main>;
  if (location.pathname === '/fall' && view.name !== 'open') return children; // the 999 advice needs nothing
  if (view.name === 'locked') {
    return (
      <main id="main" class="main">
        <Unlock key={db.name} onUnlocked={opened} onSignIn={() => setView({ name: 'open' })}
          onSwitch={async (store) => { await setCurrentStore(store); await start(); }} />
      </main>
    );
  }
  if (view.name === 'revoked') {
    return (
      <main id="main" class="main">
        <Page title="This device was revoked">
          <Notice kind="warning">{personStore || isPerson(vaultRole())
            ? 'Your care team has switched off Doorstep on this device, so the information on it can no longer be opened. Sign in again to carry on.'
            : 'This device was revoked, so its Doorstep data can no longer be opened.'}</Notice>
          <button type="button" class="button" onClick={() => setView({ name: 'open' })}>Sign in again</button>
        </Page>
      </main>
    );
  }
  const pinStep = isUnlocked() && needsPin();
  return (
    <>
      {!isUnlocked() && REASONS[view.reason] ? <div class="main"><Notice kind="warning">{(personStore || isPerson(vaultRole()) ? PERSON_REASONS : REASONS)[view.reason]}</Notice></div> : null}
      {pinStep ? (
        <main class="main">
          <Page title="Choose a PIN for this device"><SetPin optional={isPerson(vaultRole())} /></Page>
        </main>
      ) : null}
      <div hidden={pinStep}>{children}</div>
    </>
  );
}

/** Account section: change the PIN; patients and carers may turn it on or off. */
export function PinSettings() {
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState('');
  const [, rerender] = useState(0);
  useEffect(() => on('vault', () => rerender((n) => n + 1)), []);
  const person = isPerson(vaultRole());
  const finish = (message) => { setEditing(false); setDone(message); };
  return (
    <Section title="PIN" id="pin">
      {editing ? <SetPin onDone={() => finish('Your new PIN is saved.')} onCancel={() => setEditing(false)} /> : (
        <div class="stack">
          <p>{hasPin() ? 'Doorstep locks after a while without use; your PIN unlocks it.' : 'Doorstep opens on this device without a PIN.'}</p>
          <div class="actions">
            <button type="button" class="button button--secondary" onClick={() => { setDone(''); setEditing(true); }}>{hasPin() ? 'Change PIN' : 'Lock with a PIN'}</button>
            {person && hasPin() ? <button type="button" class="button button--secondary" onClick={async () => { await setPin(null); finish('Doorstep no longer asks for a PIN.'); }}>Stop using a PIN</button> : null}
          </div>
        </div>
      )}
      <Notice kind="success">{done}</Notice>
    </Section>
  );
}

/**
 * Sign-in found sealed changes that no key opens any more (device revoked, key damaged):
 * they are only deleted on an explicit, confirmed request, never silently.
 */
export function UnreadableChanges({ lost, onDone }) {
  const [sure, setSure] = useState(false);
  return (
    <div class="panel stack">
      <p>Ask your IT service desk first if these changes matter: they may be able to tell what was sent. Otherwise they can be deleted so that you can sign in here again.</p>
      <Checkbox label={`I understand: delete ${lost.unsent} unreadable unsent change(s) from this device`} checked={sure} onInput={setSure} />
      <button type="button" class="button button--warning" disabled={!sure} onClick={async () => { await discardUnreadable(); onDone(); }}>Delete unreadable changes</button>
    </div>
  );
}
