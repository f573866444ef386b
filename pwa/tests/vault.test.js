// Encryption at rest and PIN unlock (issue 15): what is on disk, wrapping and unwrapping,
// PIN change, 5 wrong PINs, damaged or missing key material, the offline window.
import { beforeEach, describe, expect, it } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { configureApi } from '../src/lib/api.js';
import { createRecord } from '../src/lib/outbox.js';
import { applyPullPage } from '../src/lib/sync.js';
import { open as openSealed, fromBase64url, hkdf } from '../src/lib/crypto.js';
import { setDataKey } from '../src/lib/crypto-store.js';
import {
  MAX_WRONG_PINS, VaultError, confirmOnline, lock, needsPin, setPin, startupState, unlockAfterSignIn, unlockWithPin,
} from '../src/lib/vault.js';
import { FakeServer, NINA, errorBody, secretFor, signIn, wire } from './fake-server.js';

const PATIENT = { given_name: 'Agnes', family_name: 'Whitcombe', nhs_number: '9990001234', address: '12 Larch Row, Leeds', access_notes: 'key safe 4471' };
let server;

beforeEach(async () => {
  server = new FakeServer();
  configureApi({ fetch: server.fetch });
  await signIn(setMeta);
});

/** Every stored value of every store, read past Dexie (what a copied disk shows). */
async function rawDump() {
  const idb = await new Promise((resolve, reject) => {
    const request = indexedDB.open(db.name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const out = {};
  for (const name of idb.objectStoreNames) {
    out[name] = await new Promise((resolve) => {
      const request = idb.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => resolve(request.result);
    });
  }
  idb.close();
  return out;
}

const text = (value) => JSON.stringify(value, (k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v));

async function withPatientAndEdit() {
  await applyPullPage({ changes: [wire('patient', 'p-1', 3, PATIENT), wire('visit', 'v-1', 2, { patient_id: 'p-1', notes: 'leg ulcer dressed' })], evictions: [], cursor: 'c', has_more: false });
  await createRecord('visit', { patient_id: 'p-1', notes: 'offline note about the dog' });
}

const signInAgain = () => unlockAfterSignIn({ user: NINA, client_id: 'c-1', access_token: 'a' });

describe('at rest', () => {
  it('stores records, outbox and tokens sealed: no name, number, address or note in clear', async () => {
    await withPatientAndEdit();
    const dump = text(await rawDump());
    for (const secret of [...Object.values(PATIENT), 'leg ulcer dressed', 'offline note about the dog', 'refresh-1', 'Nina Nurse']) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).toContain('p-1'); // ids stay readable for the indexes
    expect((await db.records.where('[entity+patient_id]').equals(['visit', 'p-1']).toArray()).map((r) => r.data.notes).sort())
      .toEqual(['leg ulcer dressed', 'offline note about the dog']);
  });

  it('seals with standard AES-256-GCM: WebCrypto opens a stored value with the data key', async () => {
    const dk = crypto.getRandomValues(new Uint8Array(32));
    setDataKey(dk);
    await db.meta.put({ key: 'user', value: { name: 'x' } });
    const [stored] = (await rawDump()).meta.filter((row) => row.key === 'user');
    const key = await crypto.subtle.importKey('raw', dk, 'AES-GCM', false, ['decrypt']);
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: stored._sealed.subarray(0, 12), additionalData: new TextEncoder().encode('meta:"user"') }, key, stored._sealed.subarray(12));
    expect(JSON.parse(new TextDecoder().decode(plain))).toEqual({ value: { name: 'x' } });
    expect(() => openSealed(crypto.getRandomValues(new Uint8Array(32)), stored._sealed)).toThrow();
  });

  it('cannot read or write sealed values while locked, and locking loses nothing', async () => {
    await withPatientAndEdit();
    lock();
    await expect(db.records.get(['patient', 'p-1'])).rejects.toThrow(/locked/);
    expect(await db.outbox.count()).toBe(1);
    await signInAgain();
    expect((await db.records.get(['patient', 'p-1'])).data.family_name).toBe('Whitcombe');
  });
});

describe('PIN', () => {
  it('a staff member must set a PIN; the right one unlocks offline, the data key stays the same', async () => {
    expect(needsPin()).toBe(true);
    await setPin('482915');
    expect(needsPin()).toBe(false);
    await withPatientAndEdit();
    lock();
    server.offline = true;
    expect((await startupState()).state).toBe('locked');
    await unlockWithPin('482915');
    expect((await db.records.get(['patient', 'p-1'])).data.nhs_number).toBe('9990001234');
    expect(await getMeta('refresh_token')).toBe('refresh-1');
  });

  it('refuses short PINs; staff may use a passphrase', async () => {
    await expect(setPin('12345')).rejects.toThrow(/at least 6 digits/);
    await setPin('correct horse battery');
  });

  it('rotates on PIN change: the old PIN no longer opens the store, the new one does', async () => {
    await setPin('111111');
    const before = await db.vault.get('keys');
    await setPin('222222');
    const after = await db.vault.get('keys');
    expect(after.pin.salt).not.toEqual(before.pin.salt);
    await withPatientAndEdit();
    lock();
    await expect(unlockWithPin('111111')).rejects.toMatchObject({ code: 'wrong-pin', remaining: 4 });
    await unlockWithPin('222222');
    expect((await db.records.get(['patient', 'p-1'])).data.given_name).toBe('Agnes');
    expect((await db.vault.get('keys')).wrong_pins).toBe(0);
  });

  it(`after ${MAX_WRONG_PINS} wrong PINs only an online sign-in unlocks; the outbox is kept`, async () => {
    await setPin('482915');
    await withPatientAndEdit();
    lock();
    for (let i = 1; i < MAX_WRONG_PINS; i += 1) await expect(unlockWithPin('000000')).rejects.toMatchObject({ code: 'wrong-pin' });
    await expect(unlockWithPin('000000')).rejects.toMatchObject({ code: 'pin-disabled' });
    expect((await db.vault.get('keys')).cached).toBeNull(); // the offline copy of the secret is gone
    await expect(unlockWithPin('482915')).rejects.toMatchObject({ code: 'sign-in-needed' });
    expect((await startupState()).reason).toBe('pin-disabled');
    expect(await db.outbox.count()).toBe(1);
    expect(await signInAgain()).toEqual({ needsPin: true });
    expect((await db.outbox.toArray())[0].fields.notes).toBe('offline note about the dog');
    await setPin('739104');
    lock();
    await unlockWithPin('739104');
  });

  it('needs an online check after the offline window, and then deletes the cached secret', async () => {
    await setPin('482915');
    lock();
    const vault = await db.vault.get('keys');
    await db.vault.put({ ...vault, cached: { ...vault.cached, until: Date.now() - 1 } });
    expect(await startupState()).toMatchObject({ state: 'sign-in-needed', reason: 'offline-expired' });
    expect((await db.vault.get('keys')).cached).toBeNull();
    await expect(unlockWithPin('482915')).rejects.toMatchObject({ code: 'sign-in-needed' });
  });
});

describe('the device secret', () => {
  it('without the server secret the right PIN and everything on the device do not open the data key', async () => {
    await setPin('482915');
    lock();
    const vault = await db.vault.get('keys');
    // The server wrap needs HKDF(S): a key from anything else (here: the PIN's bytes) does not open it.
    const guess = await hkdf([new TextEncoder().encode('482915')], new Uint8Array(), 'doorstep/v1/data-key/server');
    const { unwrap } = await import('../src/lib/crypto.js');
    await expect(unwrap(guess, vault.server_wrap, 'doorstep/v1/data-key/server/u-1')).rejects.toThrow();
    // With the secret it does: the crypto-wipe destroys exactly this.
    const serverKey = await hkdf([fromBase64url(secretFor('c-1'))], new Uint8Array(), 'doorstep/v1/data-key/server');
    expect((await unwrap(serverKey, vault.server_wrap, 'doorstep/v1/data-key/server/u-1')).length).toBe(32);
  });

  it('an online check renews the offline window; a revoked device is wiped and locked', async () => {
    await setPin('482915');
    const before = (await db.vault.get('keys')).cached.until;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await confirmOnline()).toBe('online');
    expect((await db.vault.get('keys')).cached.until).toBeGreaterThan(before);
    server.offline = true;
    expect(await confirmOnline()).toBe('offline');
    server.offline = false;
    server.on('GET /devices/c-1/secret', () => [401, errorBody(401, 'This device has been signed out.', { device: 'revoked' })]);
    expect(await confirmOnline()).toBe('revoked');
    expect(await db.vault.count()).toBe(0);
    await expect(unlockWithPin('482915')).rejects.toMatchObject({ code: 'sign-in-needed' });
  });
});

describe('damaged or missing key material', () => {
  it('a damaged cached secret asks for an online sign-in, and does not count as a wrong PIN', async () => {
    await setPin('482915');
    await withPatientAndEdit();
    lock();
    const vault = await db.vault.get('keys');
    const damaged = vault.cached.wrapped.slice();
    damaged[20] ^= 0xff;
    await db.vault.put({ ...vault, cached: { ...vault.cached, wrapped: damaged } });
    const err = await unlockWithPin('482915').catch((e) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect(err.message).toMatch(/damaged.*Sign in.*nothing unsent is lost/);
    expect((await db.vault.get('keys')).wrong_pins).toBe(0);
    await signInAgain();
    expect(await db.outbox.count()).toBe(1);
  });

  it('a damaged server wrap says so and keeps the unsent changes', async () => {
    await withPatientAndEdit();
    lock();
    const vault = await db.vault.get('keys');
    await db.vault.put({ ...vault, server_wrap: vault.server_wrap.slice(0, 20) });
    await expect(signInAgain()).rejects.toMatchObject({ code: 'key-lost', unsent: 1 });
    expect(await db.outbox.count()).toBe(1);
  });

  it('a missing key with unsent changes says how many cannot be read, and deletes nothing', async () => {
    await withPatientAndEdit();
    lock();
    await db.vault.clear();
    const err = await signInAgain().catch((e) => e);
    expect(err).toMatchObject({ code: 'key-lost', unsent: 1 });
    expect(err.message).toMatch(/1 unsent change\(s\)/);
    expect(await db.outbox.count()).toBe(1);
    expect(await db.records.count()).toBe(3);
  });
});

describe('a device updated from the plain-text release', () => {
  async function legacyDatabase(owner) {
    const { default: Dexie } = await import('dexie');
    const old = new Dexie('doorstep');
    old.version(1).stores({ records: '[entity+id], entity, patient_id, [entity+patient_id]', outbox: 'mutation_id, [entity+id]', meta: 'key', rejected: 'mutation_id, [entity+id]' });
    await old.records.put({ entity: 'patient', id: 'p-9', data: { family_name: 'Plaintext' } });
    await old.outbox.put({ mutation_id: 3, client_id: 'c-old', entity: 'goal', id: 'g-1', op: 'update', base_version: 2, fields: { title: 'walk' }, client_time: 't' });
    await old.meta.put({ key: 'owner', value: { id: 'u-x', username: owner } });
    old.close();
    return Dexie;
  }

  it('moves the owner’s unsent changes into their sealed store and deletes the plain-text database', async () => {
    const Dexie = await legacyDatabase('Nina');
    lock();
    await signInAgain();
    expect(await Dexie.exists('doorstep')).toBe(false);
    expect((await db.outbox.toArray()).map((m) => m.fields.title)).toEqual(['walk']);
    expect(text(await rawDump())).not.toContain('walk');
  });

  it('leaves someone else’s unsent changes where they are', async () => {
    const Dexie = await legacyDatabase('someone.else');
    lock();
    await signInAgain();
    expect(await Dexie.exists('doorstep')).toBe(true);
    expect(await db.outbox.count()).toBe(0);
    await Dexie.delete('doorstep');
  });
});
