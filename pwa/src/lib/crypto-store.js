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
 *    live queries re-read whole stores after every write; locking forgets it;
 *  - values can also be sealed ahead, outside any transaction, with WebCrypto
 *    (`sealAhead`: the same AES-GCM bytes and AAD, native and asynchronous, so a pulled
 *    page is sealed while the previous one commits, instead of with the synchronous
 *    pure-JS cipher inside the transaction). A value sealed ahead is written as it is
 *    only while the same key stays set (unlocked, same person); any other value that
 *    already carries `_sealed` is refused, never sealed twice.
 */
import Dexie from 'dexie';
import { sealText, openText, utf8, randomBytes } from './crypto.js';

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
let generation = 0; // counts setDataKey calls: a value sealed ahead is good for one key setting
let webKey = null; // the data key imported into WebCrypto (a promise), for sealAhead
const sealedAheadAt = new WeakMap(); // stored form sealed ahead → generation it was sealed in
const opened = new Map(); // cache key → plaintext JSON of one sealed value
const OPENED_MAX = 20_000;
const codecs = new Map(); // store name → its codec (the schema is the same for every person)

/** Give the middleware the data key (unlocked) or take it away (null: locked). */
export function setDataKey(key) {
  dataKey = key;
  generation += 1;
  webKey = null;
  opened.clear();
}

function remember(id, json) {
  if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value);
  opened.set(id, json);
}

// The IV and the tag identify one sealed value (a blob altered around them can only
// yield what was sealed with them); the AAD keeps a copied blob from hitting another
// row's entry.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function cacheKey(aadText, sealed) {
  let hex = '';
  for (let i = 0; i < 12; i += 1) hex += HEX[sealed[i]];
  for (let i = sealed.length - 16; i < sealed.length; i += 1) hex += HEX[sealed[i]];
  return `${aadText}|${hex}`;
}

export const isUnlocked = () => dataKey !== null;

function keyOrThrow() {
  if (!dataKey) throw new Locked();
  return dataKey;
}

// Random IVs for n values in few calls (getRandomValues gives at most 65,536 bytes a call).
function freshIvs(n) {
  const ivs = new Uint8Array(12 * n);
  for (let at = 0; at < ivs.length; at += 65_532) ivs.set(randomBytes(Math.min(65_532, ivs.length - at)), at);
  return ivs;
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

  // The stored form's readable fields, and the JSON and AAD text of what gets sealed.
  function split(value) {
    const out = {};
    const secret = {};
    for (const [field, v] of Object.entries(value)) (clear.has(field) ? out : secret)[field] = v;
    if (name === 'records' && secret.base && JSON.stringify(secret.data) === JSON.stringify(secret.base.data)) {
      delete secret.data;
      secret[SAME_AS_BASE] = 1;
    }
    return { out, json: JSON.stringify(secret), aad: aadText(value) };
  }

  function encode(value) {
    if (!ENCRYPTION || !value || isClear(value)) return value;
    if ('_sealed' in value) {
      if (dataKey && sealedAheadAt.get(value) === generation) return value;
      throw new Error(`A ${name} value already sealed under another key (or not by sealAhead) was written.`);
    }
    const { out, json, aad } = split(value);
    out._sealed = sealText(keyOrThrow(), json, utf8(aad));
    remember(cacheKey(aad, out._sealed), json);
    return out;
  }

  async function encodeAhead(values) {
    if (!ENCRYPTION || !dataKey) return values; // locked: the write seals (and so throws Locked) as ever
    const at = generation;
    if (!webKey) webKey = crypto.subtle.importKey('raw', dataKey, 'AES-GCM', false, ['encrypt']);
    const key = await webKey;
    const ivs = freshIvs(values.length);
    const sealed = await Promise.all(values.map(async (value, i) => {
      if (!value || isClear(value)) return null;
      const { out, json, aad } = split(value);
      const iv = ivs.subarray(12 * i, 12 * i + 12);
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(aad) }, key, utf8(json)));
      out._sealed = new Uint8Array(12 + ct.length);
      out._sealed.set(iv);
      out._sealed.set(ct, 12);
      return { out, json, aad };
    }));
    if (at !== generation) return values; // locked or switched meanwhile: seal when written
    return values.map((value, i) => {
      if (!sealed[i]) return value;
      const { out, json, aad } = sealed[i];
      sealedAheadAt.set(out, at);
      remember(cacheKey(aad, out._sealed), json);
      return out;
    });
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
  return { encode, decode, encodeAhead };
}

/**
 * The stored forms of `values` for store `name`, sealed now with WebCrypto (outside any
 * transaction); put them within the same unlock. Values come back unchanged where that
 * cannot be done (locked, encryption off, the store not opened yet): they are sealed
 * when written, as any value.
 */
export function sealAhead(name, values) {
  const codec = codecs.get(name);
  return codec ? codec.encodeAhead(values) : Promise.resolve(values);
}

/** Whether a value from sealAhead can still be written (plain values always can). */
export function stillSealedAhead(value) {
  return !(value && '_sealed' in value) || (dataKey !== null && sealedAheadAt.get(value) === generation);
}

function sealedTable(table) {
  const codec = codecFor(table.name, table.schema);
  codecs.set(table.name, codec);
  const { encode, decode } = codec;
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
