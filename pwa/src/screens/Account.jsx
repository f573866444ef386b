/** Account: who is signed in, this device, notifications, and signing out safely. */
import { useState } from 'preact/hooks';
import { Page, Section, Notice } from '../components/Page.jsx';
import { Checkbox } from '../components/fields.jsx';
import { Notifications } from '../components/Notifications.jsx';
import { useLive } from '../lib/hooks.js';
import { getMeta } from '../lib/db.js';
import { logout } from '../lib/session.js';
import { syncEngine } from '../lib/sync.js';
import { ROLE, label } from '../lib/labels.js';
import { PinSettings } from './Lock.jsx';

export function Account({ user, onSignedOut }) {
  const clientId = useLive(() => getMeta('client_id'), [], '');
  const [warning, setWarning] = useState(null);
  const [keep, setKeep] = useState(false);
  const [busy, setBusy] = useState(false);
  const person = ['patient', 'carer'].includes(user.role);
  const signOut = async (force) => {
    setBusy(true);
    try {
      if (!force) await syncEngine.syncNow(); // send what we can first
      const result = await logout({ force });
      if (result.loggedOut) onSignedOut();
      else setWarning(result.waiting);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Account">
      <dl class="summary">
        <div class="summary__row"><dt>Name</dt><dd>{user.display_name}</dd></div>
        <div class="summary__row"><dt>Username</dt><dd>{user.username}</dd></div>
        <div class="summary__row"><dt>Role</dt><dd>{label(ROLE, user.role)}</dd></div>
        <div class="summary__row"><dt>{person ? 'Device number (if the helpdesk asks for it)' : 'Device identifier'}</dt><dd><code>{clientId}</code></dd></div>
      </dl>
      <Section title="Notifications" id="notifications"><Notifications /></Section>
      <PinSettings />
      <Section title="Sign out" id="sign-out">
        {warning ? (
          <div class="stack">
            {person ? (
              <>
                <Notice kind="warning">{warning} thing{warning === 1 ? '' : 's'} you saved {warning === 1 ? 'has' : 'have'} not been sent yet. If you can, connect to the internet and wait a moment before you sign out.</Notice>
                <p>If you sign out now, they stay on this device, locked so that only you can see them. They are sent the next time you sign in here.</p>
              </>
            ) : (
              <>
                <Notice kind="warning">{warning} change{warning === 1 ? ' has' : 's have'} not reached the server yet. Connect and sync before signing out if you can.</Notice>
                <p>If you sign out now, the unsent changes stay on this device and are sent the next time you sign in here. They stay encrypted in your own store: anyone else signing in here neither sees nor sends them.</p>
              </>
            )}
            <Checkbox label={person ? 'Sign out and keep what I saved on this device' : 'Sign out and keep my unsent changes on this device'} checked={keep} onInput={setKeep} />
            <div class="actions">
              <button type="button" class="button button--warning" disabled={!keep || busy} onClick={() => signOut(true)}>Sign out anyway</button>
              <a class="button button--secondary" href="/sync">{person ? 'See what is not sent yet' : 'See unsent changes'}</a>
            </div>
          </div>
        ) : <button type="button" class="button button--secondary" disabled={busy} onClick={() => signOut(false)}>Sign out</button>}
      </Section>
    </Page>
  );
}
