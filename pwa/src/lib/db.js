/**
 * db.js owns the device's IndexedDB (through Dexie). Nothing else opens it.
 *
 * One database per person on the tablet (shared tablets), each sealed at rest by
 * crypto-store.js under that person's data key (vault.js), and a small readable
 * directory `doorstep-device` of whose store is whose. Stores of a person's database
 * (schema version 1; every outbox entry names the user who made it, `user_id`):
 *  - records  [entity+id] → {entity, id, patient_id, version, deleted, updated_at,
 *             data, base, acked, pending}. `base` is the last *pulled* server copy
 *             ({version, deleted, updated_at, data}, exactly as the server sent it; null
 *             before one arrived); `acked` the device's own mutations the server applied
 *             that no pulled copy includes yet ({mutation_id, op, fields, version});
 *             `data`/`deleted` are the local view = base + acked + pending outbox edits,
 *             in order; `version` is base.version, the base_version for new edits.
 *  - outbox   mutation_id → one queued domain mutation (see outbox.js), with the
 *             `user_id` of the user who made it.
 *  - meta     key → value: client_id, next_mutation_id, cursor, last_sync_at, user,
 *             tokens, owner (whose unsent changes the outbox holds).
 *  - rejected mutation_id → a mutation the server rejected, with its field errors,
 *             kept until the user corrects or discards it.
 *  - vault    key → the wrapped data key and its PIN salt, wrong-PIN count, lock policy.
 *
 * Invariants: a local edit and its outbox entry are written in one transaction
 * (outbox.js); no transaction ever awaits a network call (callers fetch first, then
 * open a transaction to store what came back). `base.version` only ever comes from a
 * pulled copy, never from a push result: a push result's version can include other
 * devices' changes the device has not seen, and an edit based on it would hide them
 * from the server's conflict check. Schema changes are new `db.version(n)` blocks,
 * never edits of old ones.
 */
import Dexie from 'dexie';
import { sealStores } from './crypto-store.js';
import { randomBytes, sha256Hex } from './crypto.js';

function makeStore(name) {
  const store = new Dexie(name);
  sealStores(store); // records, outbox, rejected and meta are sealed at rest (crypto-store.js)
  store.version(1).stores({
    records: '[entity+id], entity, patient_id, [entity+patient_id]',
    outbox: 'mutation_id, [entity+id]',
    meta: 'key',
    rejected: 'mutation_id, [entity+id]',
    vault: 'key', // wrapped data key, salts, counters (vault.js): never sealed
  });
  return store;
}

/**
 * The open person's store. Each person on a shared tablet has their own database
 * (`doorstep-p-…`); `useStore` switches it, and every importer sees the switch (an ES
 * module live binding). Before anyone signs in it is an empty placeholder.
 */
export let db = makeStore('doorstep-signed-out');

export function useStore(name) {
  if (db.name !== name) {
    db.close();
    db = makeStore(name);
  }
  return db;
}

export const ALL_TABLES = () => [db.records, db.outbox, db.meta, db.rejected, db.vault];

/**
 * The tablet's directory of people (readable, never patient data): which store is
 * whose, and whose store is open. Store names are a salted hash of the username, so a
 * store can be opened before sign-in answers and names nobody.
 */
const directory = new Dexie('doorstep-device');
directory.version(1).stores({ people: 'store', settings: 'key' });

export async function storeNameFor(username) {
  let salt = (await directory.settings.get('salt'))?.value;
  if (!salt) {
    salt = Array.from(randomBytes(16), (b) => b.toString(16).padStart(2, '0')).join('');
    await directory.settings.put({ key: 'salt', value: salt });
  }
  return `doorstep-p-${(await sha256Hex(`${salt}:${username.trim().toLowerCase()}`)).slice(0, 24)}`;
}

export async function currentStoreName() {
  return (await directory.settings.get('current'))?.value ?? null;
}

export async function setCurrentStore(name) {
  await directory.settings.put({ key: 'current', value: name });
}

/** Remember who uses a store: role always, display name for staff only (patients stay nameless). */
export async function rememberPerson(store, user) {
  const staff = ['nurse', 'coordinator', 'admin'].includes(user.role);
  await directory.people.put({ store, role: user.role, display_name: staff ? user.display_name : null });
}

export const people = () => directory.people.toArray();

export async function forgetPerson(store) {
  await directory.people.delete(store);
  if ((await currentStoreName()) === store) await setCurrentStore(null);
}

/** Read one meta value (joins the caller's transaction when there is one). */
export async function getMeta(key, fallback = undefined) {
  const row = await db.meta.get(key);
  return row === undefined ? fallback : row.value;
}

export async function setMeta(key, value) {
  await db.meta.put({ key, value });
}

export async function deleteMeta(...keys) {
  await db.meta.bulkDelete(keys);
}

/** The patient a record belongs to: its patient_id field, or itself for a patient. */
export function patientIdOf(entity, id, data) {
  if (entity === 'patient') return id;
  return data && typeof data.patient_id === 'string' ? data.patient_id : undefined;
}

/** Pending outbox entries for one record, oldest first. */
export function pendingFor(entity, id) {
  return db.outbox.where('[entity+id]').equals([entity, id]).sortBy('mutation_id');
}

/**
 * The local view of a record: its server copy with the pending edits re-applied on
 * top, in mutation order. Pure.
 */
export function rebase(base, pending) {
  let data = base ? { ...base.data } : {};
  let deleted = base ? Boolean(base.deleted) : false;
  for (const m of pending) {
    if (m.op === 'delete') {
      deleted = true;
    } else {
      Object.assign(data, m.fields);
      if (m.op === 'create') deleted = false;
    }
  }
  return { data, deleted };
}

/**
 * The device's own applied mutations still worth overlaying on a pulled copy of
 * `version`: those the server applied at a later version (the pulled copy predates them).
 */
export function ackedAfter(acked, version) {
  return (acked || []).filter((a) => a.version > version);
}

/**
 * The stored form of (entity, id)'s local view: its pulled server copy, the device's own
 * applied-but-not-yet-pulled mutations (`acked`) and pending edits; null when nothing is
 * left to show (the record is to be removed). Pure.
 */
export function materialise(entity, id, base, pending, acked = []) {
  const overlay = [...acked, ...pending];
  if (!base && overlay.length === 0) return null;
  const { data, deleted } = rebase(base, overlay);
  // Deleted on the server (pulled tombstone, or our applied delete): nothing to show.
  if (deleted && pending.length === 0) return null;
  const record = {
    entity,
    id,
    version: base ? base.version : 0,
    updated_at: base ? base.updated_at : null,
    deleted,
    data,
    base,
    acked,
    pending: pending.length,
  };
  const patientId = patientIdOf(entity, id, data);
  if (patientId !== undefined) record.patient_id = patientId;
  return record;
}

/**
 * Store the local view of (entity, id) (see `materialise`), or remove it when nothing
 * is left to show. Call inside a transaction on records.
 */
export async function writeMaterialised(entity, id, base, pending, acked = []) {
  const record = materialise(entity, id, base, pending, acked);
  if (record) await db.records.put(record);
  else await db.records.delete([entity, id]);
  return record;
}

/** One string per record, for Maps and Sets of records. */
export const recordKey = (entity, id) => `${entity}\u0000${id}`;

/**
 * Pending outbox entries of many records in one query: a Map from `recordKey` to the
 * entries of that record, oldest first (records without any are absent). Call inside
 * a transaction on outbox.
 */
export async function pendingForMany(keys) {
  const byRecord = new Map();
  if (keys.length === 0 || (await db.outbox.count()) === 0) return byRecord;
  const entries = await db.outbox.where('[entity+id]').anyOf(keys).toArray();
  entries.sort((a, b) => a.mutation_id - b.mutation_id);
  for (const entry of entries) {
    const key = recordKey(entry.entity, entry.id);
    if (!byRecord.has(key)) byRecord.set(key, []);
    byRecord.get(key).push(entry);
  }
  return byRecord;
}

/** Forget everything of the open person on this device (revoked device, or an explicit discard). */
export async function wipeAll() {
  await db.transaction('rw', ALL_TABLES(), async () => {
    await Promise.all(ALL_TABLES().map((table) => table.clear()));
  });
  await forgetPerson(db.name);
}
