/**
 * session.js: signing in and out on this device.
 *
 * Invariants:
 *  - the device keeps its client_id across sessions (sent at login), so an outbox
 *    that is still waiting keeps its numbering; if the server hands out a new
 *    client_id, the waiting outbox is renumbered from 1 for it;
 *  - unsent changes belong to the person who made them (each outbox entry's `user_id`,
 *    and `meta.owner` for their name): someone else cannot sign in on top of them and
 *    push them under their own name — checked before asking the server, and again on
 *    its answer, in the transaction that would store the new session;
 *  - tokens and the user they belong to are stored in one transaction, so whoever reads
 *    the tokens reads their user too;
 *  - logout never drops the outbox or the needs-correction list. It clears the
 *    patient records (they come back with the next sign-in's first sync) and tokens;
 *  - every sign-in and sign-out is announced to the other tabs (tabs.js).
 */
import { db, getMeta, setMeta, deleteMeta } from './db.js';
import { api, storeTokens, endSession, ApiError, logoutToken } from './api.js';
import { renumberForClient } from './outbox.js';
import { announceSession, setShownUser } from './tabs.js';
import { openStoreFor, unlockAfterSignIn, forgetOfflineUnlock, isUnlocked } from './vault.js';

export class OwnerMismatch extends Error {
  constructor(owner, waiting) {
    super(`This device holds ${waiting} unsent change(s) made by ${owner.display_name || owner.username}. ` +
      'They must sign in to send them before anyone else can sign in here.');
    this.name = 'OwnerMismatch';
    this.owner = owner;
    this.waiting = waiting;
  }
}

/** Changes not yet accepted by the server: queued, plus rejected ones awaiting correction. */
export async function unsentCount() {
  const [queued, rejected] = await Promise.all([db.outbox.count(), db.rejected.count()]);
  return queued + rejected;
}

/** Unsent changes (queued or rejected) made by anyone but `userId`. */
async function unsentByOthers(userId) {
  const [queued, rejected] = await Promise.all([
    db.outbox.filter((entry) => entry.user_id !== userId).count(),
    db.rejected.filter((item) => item.mutation.user_id !== userId).count(),
  ]);
  return queued + rejected;
}

export function defaultDeviceName() {
  const ua = (globalThis.navigator && navigator.userAgent) || '';
  const kind = /iPad|Tablet|Android(?!.*Mobile)/i.test(ua) ? 'Tablet' : /Mobi/i.test(ua) ? 'Phone' : 'Computer';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'browser';
  return `${kind} (${browser})`;
}

/** The signed-in user, or null when there is no session to sync with. */
export async function currentUser() {
  if (!isUnlocked()) return null; // locked: nothing to sync with until the PIN or a sign-in opens the store
  if (!(await getMeta('refresh_token'))) return null;
  return getMeta('user', null);
}

/** The signed-in user, remembered as the one this tab shows (on start, and when told). */
export async function sessionForThisTab() {
  const user = await currentUser();
  setShownUser(user ? user.id : null);
  return user;
}

export async function login({ username, password, deviceName }) {
  await openStoreFor(username); // each person has their own sealed store (vault.js, shared tablets)
  const waiting = await unsentCount();
  // A person's own store can only hold their changes; `owner` is sealed, so it is read
  // only when the store is already open (a session that expired while unlocked).
  const owner = isUnlocked() ? await getMeta('owner', null) : null;
  if (waiting > 0 && owner && owner.username.toLowerCase() !== username.trim().toLowerCase()) {
    throw new OwnerMismatch(owner, waiting);
  }
  const storedClientId = await getMeta('client_id', null);
  const body = { username: username.trim(), password, device_name: deviceName || defaultDeviceName() };
  if (storedClientId) body.client_id = storedClientId;
  const session = await api('/auth/login', { method: 'POST', body, auth: false });
  await unlockAfterSignIn(session); // the device secret opens (or creates) the data key
  const user = { ...session.user, patient_id: null };
  const others = await db.transaction('rw', db.records, db.outbox, db.meta, db.rejected, async () => {
    // Another tab may have queued someone else's changes since the check above.
    const othersWaiting = await unsentByOthers(user.id);
    if (othersWaiting > 0) return othersWaiting;
    await storeTokens(session);
    if (session.client_id !== storedClientId) {
      if (storedClientId) await deleteMeta('cursor');
      await renumberForClient(session.client_id);
    }
    const previous = await getMeta('user', null);
    // Someone else's session ended without signing out: their records must not show.
    if (previous && previous.id !== user.id) {
      await db.records.clear();
      await deleteMeta('cursor', 'last_sync_at', 'push_subscription', 'chosen_patient_id');
    }
    await setMeta('user', user);
    await setMeta('owner', { id: user.id, username: user.username, display_name: user.display_name });
    return 0;
  });
  if (others > 0) {
    await logoutToken(session.access_token); // this new session must not push them
    throw new OwnerMismatch((await getMeta('owner', null)) || { username: 'another user' }, others);
  }
  setShownUser(user.id);
  try {
    const me = await api('/me');
    if (me) await setMeta('user', { ...user, patient_id: me.patient_id ?? null });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err; // offline right after login: keep going
  }
  announceSession({ type: 'signed-in' }); // once the user is complete (patient_id)
  return getMeta('user');
}

/**
 * Sign out. With `force` false and unsent changes waiting, nothing happens and the
 * count is returned so the screen can warn. Unsent changes are kept either way.
 */
export async function logout({ force = false } = {}) {
  const waiting = await unsentCount();
  if (waiting > 0 && !force) return { loggedOut: false, waiting };
  await endSession();
  const kept = await db.transaction('rw', db.records, db.meta, db.outbox, db.rejected, async () => {
    await db.records.clear();
    await deleteMeta('cursor', 'user', 'last_sync_at', 'push_subscription', 'chosen_patient_id');
    // Counted again here: another tab may have queued a change since the count above.
    const unsent = await unsentCount();
    if (unsent === 0) await deleteMeta('owner');
    return unsent;
  });
  await forgetOfflineUnlock();
  setShownUser(null);
  announceSession({ type: 'signed-out' });
  return { loggedOut: true, waiting: kept };
}
