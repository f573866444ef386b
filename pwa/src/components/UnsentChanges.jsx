/**
 * What the sign-in screen says about the session that ended, and about changes made on
 * this device that have not reached the server. Unsent changes are never deleted
 * without the person seeing how many there are, whose they are, and confirming.
 */
import { useState } from 'preact/hooks';
import { Notice } from './Page.jsx';
import { Checkbox } from './fields.jsx';
import { useLive } from '../lib/hooks.js';
import { getMeta, wipeAll } from '../lib/db.js';
import { unsentCount } from '../lib/session.js';

const changes = (n) => `${n} change${n === 1 ? '' : 's'}`;
const nameOf = (owner) => (owner && (owner.display_name || owner.username)) || 'the person who made them';

/** Delete the device's unsent changes (and everything else on it) after a confirmation. */
export function DiscardUnsentChanges({ owner, waiting, onDone }) {
  const [sure, setSure] = useState(false);
  return (
    <div class="panel stack">
      <p>If {nameOf(owner)} cannot sign in, their unsent changes can be removed from this device. They will be lost.</p>
      <Checkbox label={`I understand: delete ${waiting} unsent change(s) from this device`} checked={sure} onInput={setSure} />
      <button type="button" class="button button--warning" disabled={!sure} onClick={async () => { await wipeAll(); onDone(); }}>Delete unsent changes</button>
    </div>
  );
}

async function unsent() {
  return { waiting: await unsentCount(), owner: await getMeta('owner', null) };
}

/** Why the person is at the sign-in screen, and what is still waiting to be sent. */
export function SignedOutNotice({ reason }) {
  const state = useLive(unsent, [], { waiting: 0, owner: null });
  const [discarding, setDiscarding] = useState(false);
  const { waiting, owner } = state;
  return (
    <>
      {reason === 'revoked' ? <Notice kind="warning">This device was signed out by your organisation (revoked), so the patient records on it have been removed.</Notice> : null}
      {reason === 'expired' ? <Notice kind="info">Your session has ended. Sign in again; changes not yet sent are kept on this device.</Notice> : null}
      {reason === 'other-tab' ? <Notice kind="info">You were signed out in another tab of this app.</Notice> : null}
      {reason === 'revoked' && waiting > 0 ? (
        <div class="stack">
          <Notice kind="warning">{changes(waiting)} made on this device by {nameOf(owner)} {waiting === 1 ? 'has' : 'have'} not reached the server. They are kept here: sign in again as {nameOf(owner)} to send them.</Notice>
          {discarding
            ? <DiscardUnsentChanges owner={owner} waiting={waiting} onDone={() => setDiscarding(false)} />
            : <button type="button" class="button button--secondary" onClick={() => setDiscarding(true)}>Delete the unsent changes instead…</button>}
        </div>
      ) : null}
    </>
  );
}
