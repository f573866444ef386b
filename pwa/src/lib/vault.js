/**
 * vault.js: the open person's data key, and how it is unlocked (docs/security.md).
 *
 * Key hierarchy (one per person's store):
 *   DK   random 256-bit data key; seals every stored value (crypto-store.js); held in
 *        memory only while unlocked, never stored unwrapped.
 *   S    the device secret, 32 bytes, from GET /devices/{client_id}/secret: only the
 *        signed-in, unrevoked device gets it; revoking the device destroys it.
 *   S_srv = HKDF(S, "server")  wraps DK as `server_wrap`: an online sign-in opens it.
 *   S_pin = HKDF(S, "pin")     with the PIN: KEK = HKDF(PBKDF2(PIN) || S_pin) wraps DK
 *        as `pin.wrapped`. S_pin is cached on the device for offline unlock, wrapped by
 *        a non-extractable WebCrypto key, and only until `cached.until` (the offline
 *        window since the last online check); then it is deleted and only an online
 *        sign-in (which needs S) opens the store.
 *
 * Invariants:
 *  - nothing here ever deletes records, outbox or rejected entries: a key that cannot be
 *    opened is reported (VaultError) with the count of unsent changes it holds;
 *  - 5 wrong PINs disable the PIN and delete the cached S_pin; the counter is stored
 *    before the answer is shown, so reloading does not reset it;
 *  - patients and carers have no PIN unless they choose one: their DK is wrapped with
 *    S_pin alone (still bound to the offline window and destroyed with S).
 */
import { db, useStore, storeNameFor, setCurrentStore, currentStoreName, rememberPerson } from './db.js';
import { setDataKey, isUnlocked } from './crypto-store.js';
import { api, fetchWithToken, ApiError, NetworkError, isRevoked } from './api.js';
import { KeyError, randomBytes, pinBits, hkdf, wrap, unwrap, newDeviceKey, fromBase64url, PBKDF2_ITERATIONS } from './crypto.js';
import { emit } from './events.js';
import { adoptLegacyStore } from './legacy.js';

export const MAX_WRONG_PINS = 5;
export const MIN_PIN_DIGITS = 6;
export const MIN_PASSPHRASE = 10;
const STAFF = ['nurse', 'coordinator', 'admin'];
const DEFAULT_POLICY = { offline_unlock_seconds: 24 * 3600, idle_lock_seconds: 300, hidden_lock_seconds: 60 };
const SERVER_WRAP = 'doorstep/v1/data-key/server';
const PIN_WRAP = 'doorstep/v1/data-key/pin';
const CACHED_PIN_SECRET = 'doorstep/v1/pin-secret/cached';
const NO_SALT = new Uint8Array();

/** Why the store cannot be opened; `code` is wrong-pin, pin-disabled, sign-in-needed, key-lost. */
export class VaultError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
    Object.assign(this, extra);
  }
}

let session = null; // {dk, pinSecret, vault} while unlocked

const readVault = async () => (await db.vault.get('keys')) ?? null;
async function writeVault(vault) {
  await db.vault.put({ ...vault, key: 'keys' });
  if (session) session.vault = vault;
}
async function clearStore() {
  await db.transaction('rw', db.tables, () => Promise.all(db.tables.map((table) => table.clear())));
}
const unsentIn = async () => (await db.outbox.count()) + (await db.rejected.count());
const isStaff = (role) => STAFF.includes(role);

function policyOf(body) {
  const pick = (name) => (typeof body[name] === 'number' ? body[name] : DEFAULT_POLICY[name]);
  return { offline_unlock_seconds: pick('offline_unlock_seconds'), idle_lock_seconds: pick('idle_lock_seconds'), hidden_lock_seconds: pick('hidden_lock_seconds') };
}

async function splitSecret(secret) {
  return { serverKey: await hkdf([secret], NO_SALT, SERVER_WRAP), pinSecret: await hkdf([secret], NO_SALT, 'doorstep/v1/pin-secret') };
}

async function pinKek(pin, pinState, pinSecret, userId) {
  const bits = pinState.iterations ? await pinBits(pin, pinState.salt, pinState.iterations) : NO_SALT;
  return hkdf([bits, pinSecret], pinState.salt, `${PIN_WRAP}/${userId}`);
}

async function cachePinSecret(pinSecret, policy) {
  const key = await newDeviceKey();
  return { key, wrapped: await wrap(key, pinSecret, CACHED_PIN_SECRET), until: Date.now() + policy.offline_unlock_seconds * 1000 };
}

function unlocked(dk, pinSecret, vault) {
  session = { dk, pinSecret, vault };
  setDataKey(dk);
  emit('vault', 'unlocked');
}

/** Forget the keys (the app shows the lock screen first). */
export function lock() {
  session = null;
  setDataKey(null);
  emit('vault', 'locked');
}

export { isUnlocked };
export const policy = () => (session ? session.vault.policy : DEFAULT_POLICY);
export const role = () => (session ? session.vault.role : null);
export const hasPin = () => Boolean(session && session.vault.pin && session.vault.pin.iterations && !session.vault.pin_disabled);

/** Staff must have a PIN (patients and carers may); after 5 wrong ones everyone sets a new one. */
export function needsPin() {
  if (!session) return false;
  const { pin, pin_disabled: disabled, role: who } = session.vault;
  return disabled || (!pin && isStaff(who));
}

/** A sentence saying what is wrong with a PIN the person chose, or null. */
export function pinProblem(pin, who = role()) {
  if (/^\d+$/.test(pin)) return pin.length >= MIN_PIN_DIGITS ? null : `Use at least ${MIN_PIN_DIGITS} digits.`;
  if (!isStaff(who)) return 'Use digits only.';
  return pin.length >= MIN_PASSPHRASE ? null : `Use at least ${MIN_PIN_DIGITS} digits, or a passphrase of at least ${MIN_PASSPHRASE} characters.`;
}

/** Open (not unlock) the person's own store before signing in: their client_id is in it. */
export async function openStoreFor(username) {
  const name = await storeNameFor(username);
  if (db.name !== name) lock(); // never carry one person's key into another's store
  useStore(name);
}

/**
 * After a password sign-in: fetch this device's secret and open the store with it
 * (creating the data key on first sign-in). Throws VaultError('key-lost') when sealed
 * data exists that no key on hand opens; nothing is deleted.
 */
export async function unlockAfterSignIn(signedIn) {
  const { user, client_id: clientId, access_token: token } = signedIn;
  const body = await fetchWithToken(`/devices/${encodeURIComponent(clientId)}/secret`, token);
  const { serverKey, pinSecret } = await splitSecret(fromBase64url(body.secret));
  const stored = await readVault();
  const purpose = `${SERVER_WRAP}/${user.id}`;
  let dk;
  let vault = stored;
  if (stored && stored.client_id === clientId && stored.user_id === user.id) {
    try {
      dk = await unwrap(serverKey, stored.server_wrap, purpose);
    } catch (err) {
      if (!(err instanceof KeyError)) throw err;
      throw new VaultError('key-lost', 'The key to the data on this device is damaged, so it cannot be opened.', { unsent: await unsentIn() });
    }
  } else if (session && stored && stored.user_id === user.id) {
    dk = session.dk; // still unlocked (session expired) and given a new device identity: re-wrap
    vault = { ...stored, pin: null };
  } else {
    const unsent = await unsentIn();
    if (unsent > 0) {
      throw new VaultError('key-lost', `The key to this device's data was withdrawn or is missing (was the device revoked?), so ${unsent} unsent change(s) on it cannot be read.`, { unsent });
    }
    // Nothing unsent: whatever is left was sealed under a key that is gone and comes
    // back from the server; start the store afresh.
    if (stored || (await db.records.count()) || (await db.meta.count())) await clearStore();
    dk = randomBytes(32);
    vault = { user_id: user.id, pin: null, cached: null, wrong_pins: 0, pin_disabled: false };
  }
  const next = { ...vault, user_id: user.id, client_id: clientId, role: user.role, policy: policyOf(body), server_wrap: await wrap(serverKey, dk, purpose) };
  if (next.pin && !next.pin_disabled) next.cached = await cachePinSecret(pinSecret, next.policy);
  session = null;
  await writeVault(next);
  await rememberPerson(db.name, user);
  await setCurrentStore(db.name);
  unlocked(dk, pinSecret, next);
  await adoptLegacyStore(user); // a device updated from the plain-text release
  if (!next.pin && !isStaff(user.role)) await setPin(null); // patients and carers: no PIN unless chosen
  return { needsPin: needsPin() };
}

/**
 * Set (or change, or with null remove) the PIN while unlocked. A change makes a new salt
 * and a new wrap, so the old PIN no longer opens anything; the data key stays.
 */
export async function setPin(pin) {
  if (!session) throw new VaultError('sign-in-needed', 'Unlock first.');
  if (pin !== null) {
    const problem = pinProblem(pin);
    if (problem) throw new VaultError('bad-pin', problem);
  }
  const pinState = { salt: randomBytes(16), iterations: pin === null ? 0 : PBKDF2_ITERATIONS };
  const kek = await pinKek(pin, pinState, session.pinSecret, session.vault.user_id);
  const next = {
    ...session.vault,
    pin: { ...pinState, wrapped: await wrap(kek, session.dk, PIN_WRAP) },
    wrong_pins: 0,
    pin_disabled: false,
    cached: await cachePinSecret(session.pinSecret, session.vault.policy),
  };
  await writeVault(next);
  emit('vault', 'pin-set');
}

/** What the open store needs at start: locked, no-pin, sign-in-needed (with a reason), signed-out. */
export async function startupState() {
  const name = await currentStoreName();
  if (!name) return { state: 'signed-out' };
  if (db.name !== name) lock();
  useStore(name);
  const vault = await readVault();
  if (!vault) return { state: 'signed-out' };
  if (!vault.pin || vault.pin_disabled) return { state: 'sign-in-needed', reason: vault.pin_disabled ? 'pin-disabled' : 'no-pin', vault };
  if (!vault.cached || vault.cached.until <= Date.now()) {
    // Past the offline window: delete the cached secret now, not just ignore it.
    if (vault.cached) await writeVault({ ...vault, cached: null });
    return { state: 'sign-in-needed', reason: 'offline-expired', vault };
  }
  return { state: vault.pin.iterations ? 'locked' : 'no-pin', vault };
}

/**
 * Unlock with the PIN (null for a person without one), offline. Wrong PINs count; at
 * MAX_WRONG_PINS the PIN is disabled and the cached secret deleted.
 */
export async function unlockWithPin(pin) {
  const vault = await readVault();
  if (!vault || !vault.pin || vault.pin_disabled || !vault.cached || vault.cached.until <= Date.now()) {
    throw new VaultError('sign-in-needed', 'Sign in with your password (online) to unlock.');
  }
  let pinSecret;
  try {
    pinSecret = await unwrap(vault.cached.key, vault.cached.wrapped, CACHED_PIN_SECRET);
  } catch (err) {
    if (!(err instanceof KeyError) && !(err instanceof TypeError)) throw err;
    throw new VaultError('sign-in-needed', 'The PIN key on this device is damaged. Sign in with your password (online) to unlock; nothing unsent is lost.');
  }
  const kek = await pinKek(pin, vault.pin, pinSecret, vault.user_id);
  let dk;
  try {
    dk = await unwrap(kek, vault.pin.wrapped, PIN_WRAP);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    const wrong = (vault.wrong_pins || 0) + 1;
    if (wrong >= MAX_WRONG_PINS) {
      await writeVault({ ...vault, wrong_pins: wrong, pin_disabled: true, cached: null });
      throw new VaultError('pin-disabled', `${MAX_WRONG_PINS} wrong PINs: the PIN is switched off. Sign in with your password (online) to unlock and set a new PIN. Nothing unsent is lost.`);
    }
    await writeVault({ ...vault, wrong_pins: wrong });
    const left = MAX_WRONG_PINS - wrong;
    throw new VaultError('wrong-pin', `That PIN is not right. ${left} ${left === 1 ? 'try' : 'tries'} left.`, { remaining: left });
  }
  const next = { ...vault, wrong_pins: 0 };
  await writeVault(next);
  unlocked(dk, pinSecret, next);
}

/**
 * Once unlocked, ask the server (when reachable) whether this device may still open its
 * data: renews the offline window and the lock policy, or — revoked — the store has
 * been wiped (api.js) and the keys are dropped. Returns online, offline, signed-out, revoked.
 */
export async function confirmOnline() {
  if (!session) return 'locked';
  try {
    const body = await api(`/devices/${encodeURIComponent(session.vault.client_id)}/secret`);
    const next = { ...session.vault, policy: policyOf(body) };
    if (next.pin && !next.pin_disabled) next.cached = await cachePinSecret(session.pinSecret, next.policy);
    await writeVault(next);
    return 'online';
  } catch (err) {
    if (isRevoked(err)) {
      await onRevoked();
      lock(); // unlocking a revoked device shows nothing, even with the right PIN
      return 'revoked';
    }
    if (err instanceof NetworkError) return 'offline';
    if (err instanceof ApiError) return 'signed-out';
    throw err;
  }
}

/**
 * The server said this device is revoked (its secret is destroyed: crypto-wipe). With
 * nothing unsent, the store goes at once. With unsent changes, they stay sealed and the
 * offline PIN unlock goes; if the store is open, its key stays in this page's memory
 * only, so their author can sign in again now and send them (unlockAfterSignIn re-wraps
 * it for the new device identity). A reload or the idle lock drops it, and the sign-in
 * screen then says how many changes can no longer be read before anything is deleted.
 */
export async function onRevoked() {
  if ((await unsentIn()) === 0) {
    lock();
    await clearStore();
    return;
  }
  const vault = await readVault();
  if (vault) await writeVault({ ...vault, cached: null });
}

/** On sign-out: no offline unlock any more (the next start asks for the password). */
export async function forgetOfflineUnlock() {
  const vault = await readVault();
  if (vault) await writeVault({ ...vault, cached: null });
  await setCurrentStore(null);
  lock();
}

/** Delete a store whose key is lost: only on the person's explicit, confirmed request. */
export async function discardUnreadable() {
  lock();
  await clearStore();
}
