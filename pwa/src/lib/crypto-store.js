/**
 * crypto-store.js: a Dexie DBCore middleware that stores every value of `records`,
 * `outbox`, `rejected` and `meta` sealed (AES-256-GCM under the data key) and opens it
 * on read, so screens, outbox.js and sync.js read and write plain objects as before.
 *
 * Invariants:
 *  - readable on disk: each store's primary key and index paths (taken from the schema,
 *    so an index added later stays queryable) plus the few non-identifying fields in
 *    CLEAR (versions, counts, op); everything else — names, NHS numbers, addresses,
 *    notes, every field of `data` — is inside `_sealed`, whatever fields exist later;
 *  - meta values stay readable only for the keys in CLEAR_META (ids, counters, times);
 *    tokens, the user and everything else are sealed;
 *  - each sealed value is bound (AES-GCM AAD) to its store and primary key, so a sealed
 *    blob copied onto another row does not open;
 *  - without the data key (locked) a sealed value cannot be written or read: the call
 *    throws Locked. Missing rows still read as missing;
 *  - opened plaintext is remembered in memory while unlocked (keyed by store, primary
 *    key and the value's own IV and tag, so it is exactly that sealed value), because
 *    live queries re-read whole stores after every write; locking forgets it.
 */
import Dexie from 'dexie';
import { sealText, openText, utf8 } from './crypto.js';

/* global __ENCRYPTION__ */
// A build-time switch for bench/browser_first_sync.py only (DOORSTEP_ENCRYPTION=off).
const ENCRYPTION = typeof __ENCRYPTION__ === 'undefined' ? true : __ENCRYPTION__;

const CLEAR = {
  records: ['version', 'deleted', 'pending', 'updated_at'],
  outbox: ['op', 'base_version', 'client_id', 'user_id'],
  rejected: [],
  meta: [],
};
export const CLEAR_META = new Set([
  'client_id', 'next_mutation_id', 'cursor', 'last_sync_at', 'server_last_mutation_id',
  'server_time', 'update_required', 'access_expires_at', 'first_sync_complete',
]);
const SAME_AS_BASE = '$d'; // a record's local view equal to its server copy is stored once

export class Locked extends Error {
  constructor() {
    super('Doorstep is locked: unlock it to read or change its data.');
    this.name = 'Locked';
  }
}

let dataKey = null;
const opened = new Map(); // cache key → plaintext JSON of one sealed value
const OPENED_MAX = 20_000;

/** Give the middleware the data key (unlocked) or take it away (null: locked). */
export function setDataKey(key) {
  dataKey = key;
  opened.clear();
}

function remember(id, json) {
  if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value);
  opened.set(id, json);
}

// The IV and the tag identify one sealed value (a blob altered around them can only
// yield what was sealed with them); the AAD keeps a copied blob from hitting another
// row's entry.
function cacheKey(aadText, sealed) {
  let hex = '';
  for (const i of [...sealed.subarray(0, 12), ...sealed.subarray(sealed.length - 16)]) hex += i.toString(16).padStart(2, '0');
  return `${aadText}|${hex}`;
}

export const isUnlocked = () => dataKey !== null;

function keyOrThrow() {
  if (!dataKey) throw new Locked();
  return dataKey;
}

function pathsOf(schema) {
  const paths = new Set();
  for (const index of [schema.primaryKey, ...schema.indexes]) {
    for (const path of [].concat(index.keyPath || [])) paths.add(path);
  }
  return paths;
}

function codecFor(name, schema) {
  const clear = new Set([...pathsOf(schema), ...CLEAR[name]]);
  const keyPath = schema.primaryKey.keyPath;
  const aadText = (value) => `${name}:${JSON.stringify(Dexie.getByKeyPath(value, keyPath))}`;
  const isClear = name === 'meta' ? (value) => CLEAR_META.has(value.key) : () => false;

  function encode(value) {
    if (!ENCRYPTION || !value || isClear(value)) return value;
    const out = {};
    const secret = {};
    for (const [field, v] of Object.entries(value)) (clear.has(field) ? out : secret)[field] = v;
    if (name === 'records' && secret.base && JSON.stringify(secret.data) === JSON.stringify(secret.base.data)) {
      delete secret.data;
      secret[SAME_AS_BASE] = 1;
    }
    const json = JSON.stringify(secret);
    const aad = aadText(value);
    out._sealed = sealText(keyOrThrow(), json, utf8(aad));
    remember(cacheKey(aad, out._sealed), json);
    return out;
  }

  function decode(stored) {
    if (!stored || !stored._sealed) return stored;
    const { _sealed: sealed, ...out } = stored;
    const key = keyOrThrow();
    const aad = aadText(stored);
    const id = sealed instanceof Uint8Array && sealed.length >= 28 ? cacheKey(aad, sealed) : null;
    let json = id ? opened.get(id) : undefined;
    if (json === undefined) {
      json = openText(key, sealed, utf8(aad));
      if (id) remember(id, json);
    }
    const secret = JSON.parse(json);
    if (secret[SAME_AS_BASE]) {
      delete secret[SAME_AS_BASE];
      secret.data = { ...secret.base.data };
    }
    return Object.assign(out, secret);
  }
  return { encode, decode };
}

function sealedTable(table) {
  const { encode, decode } = codecFor(table.name, table.schema);
  return {
    ...table,
    mutate(req) {
      if (req.type === 'add' || req.type === 'put') return table.mutate({ ...req, values: req.values.map(encode) });
      return table.mutate(req);
    },
    get: (req) => table.get(req).then(decode),
    getMany: (req) => table.getMany(req).then((values) => values.map(decode)),
    query: (req) => table.query(req).then((res) => (req.values ? { ...res, result: res.result.map(decode) } : res)),
    openCursor: (req) => table.openCursor(req).then((cursor) => {
      if (!cursor || !req.values) return cursor;
      return Object.create(cursor, { value: { get: () => decode(cursor.value) } });
    }),
  };
}

/** Install the sealing middleware on a Dexie database (before it opens). */
export function sealStores(dexie) {
  dexie.use({
    stack: 'dbcore',
    name: 'DoorstepSealing',
    create: (down) => ({
      ...down,
      table: (name) => (name in CLEAR ? sealedTable(down.table(name)) : down.table(name)),
    }),
  });
}
