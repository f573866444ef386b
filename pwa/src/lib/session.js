/**
 * session.js: signing in and out on this device.
 *
 * Invariants:
 *  - the device keeps its client_id across sessions (sent at login), so an outbox
 *    that is still waiting keeps its numbering; if the server hands out a new
 *    client_id, the waiting outbox is renumbered from 1 for it;
 *  - unsent changes belong to the person who made them (`meta.owner`): someone else
 *    cannot sign in on top of them and push them under their own name;
 *  - logout never drops the outbox or the needs-correction list. It clears the
 *    patient records (they come back with the next sign-in's first sync) and tokens.
 */
import { db, getMeta, setMeta, deleteMeta } from './db.js';
import { api, storeTokens, endSession, ApiError } from './api.js';
import { renumberForClient } from './outbox.js';
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
  await storeTokens(session);
  if (session.client_id !== storedClientId) {
    if (storedClientId) await db.transaction('rw', db.meta, () => deleteMeta('cursor'));
    await renumberForClient(session.client_id);
  }
  const user = { ...session.user, patient_id: null };
  const previous = await getMeta('user', null);
  await db.transaction('rw', db.records, db.meta, async () => {
    // Someone else's session ended without signing out: their records must not show.
    if (previous && previous.id !== user.id) {
      await db.records.clear();
      await deleteMeta('cursor', 'last_sync_at', 'push_subscription', 'chosen_patient_id');
    }
    await setMeta('user', user);
    await setMeta('owner', { id: user.id, username: user.username, display_name: user.display_name });
  });
  try {
    const me = await api('/me');
    if (me) await setMeta('user', { ...user, patient_id: me.patient_id ?? null });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err; // offline right after login: keep going
  }
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
  await db.transaction('rw', db.records, db.meta, async () => {
    await db.records.clear();
    await deleteMeta('cursor', 'user', 'last_sync_at', 'push_subscription', 'chosen_patient_id');
    if (waiting === 0) await deleteMeta('owner');
  });
  await forgetOfflineUnlock();
  return { loggedOut: true, waiting };
}
