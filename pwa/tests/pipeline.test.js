// The pipelined pull (issue 13): the next page is downloaded and sealed while one is
// stored, yet pages are stored one at a time in the server's order, the cursor moves
// only with a stored page, and a failed download or store loses nothing: the next run
// resumes from the last stored page. Records sealed ahead (WebCrypto, outside the
// transaction) are the same AES-GCM as ever, and are never written once the key changed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { configureApi } from '../src/lib/api.js';
import { applyPullPage, pullChanges, FIRST_SYNC_COMPLETE } from '../src/lib/sync.js';
import { sealedAhead } from '../src/lib/serverCopies.js';
import { lock, unlockAfterSignIn } from '../src/lib/vault.js';
import { FakeServer, NINA, errorBody, signIn, wire } from './fake-server.js';

let server;
let log;

beforeEach(async () => {
  server = new FakeServer();
  configureApi({ fetch: server.fetch });
  await signIn(setMeta);
  log = [];
});

afterEach(() => vi.restoreAllMocks());

/** Page `n` (0, 1, 2) of a three-page download: 50 patients each, cursors cur-1…cur-3. */
function page(n) {
  const changes = [];
  for (let i = n * 50; i < n * 50 + 50; i += 1) changes.push(wire('patient', `p-${i}`, 1, { family_name: `Family${i}` }));
  return { changes, evictions: [], cursor: `cur-${n + 1}`, has_more: n < 2, last_mutation_id: 0 };
}
const PAGES = { '': 0, 'cur-1': 1, 'cur-2': 2 };

/** Serve the three pages by cursor; `fail(cursor)` may answer an error instead. */
function serve(fail = () => null) {
  server.on('GET /sync/pull', ({ query }) => {
    log.push(`fetch ${query.cursor || 'start'}`);
    return fail(query.cursor) || [200, page(PAGES[query.cursor || ''])];
  });
}

/** Log each IndexedDB transaction that writes records (one per stored page). */
function logPageStores() {
  const original = db.core.transaction;
  vi.spyOn(db.core, 'transaction').mockImplementation((stores, mode, ...rest) => {
    if (mode === 'readwrite' && [].concat(stores).includes('records')) log.push('store');
    return original.call(db.core, stores, mode, ...rest);
  });
}

const storedIds = async () => (await db.records.toCollection().primaryKeys()).map(([, id]) => Number(id.slice(2))).sort((a, b) => a - b);
const range = (n) => Array.from({ length: n }, (_, i) => i);

describe('the pipelined pull', () => {
  it('asks for the next page before storing the current one, and stores pages in order', async () => {
    serve();
    logPageStores();
    const progress = [];
    await pullChanges((p) => progress.push([p.received, p.full]));
    expect(log).toEqual(['fetch start', 'fetch cur-1', 'store', 'fetch cur-2', 'store', 'store']);
    expect(progress).toEqual([[50, true], [100, true], [150, true]]);
    expect(await storedIds()).toEqual(range(150));
    expect(await getMeta('cursor')).toBe('cur-3');
    expect(await getMeta(FIRST_SYNC_COMPLETE)).toBe(true);
  });

  it('saves the cursor only with its stored page: a failed download keeps the last stored page and resumes from it', async () => {
    serve((cursor) => (cursor === 'cur-2' ? [503, errorBody(503, 'busy')] : null));
    await expect(pullChanges()).rejects.toThrow();
    expect(await getMeta('cursor')).toBe('cur-2'); // pages 1 and 2 stored; page 3 never came
    expect(await storedIds()).toEqual(range(100));
    expect(await getMeta(FIRST_SYNC_COMPLETE)).toBeUndefined();

    log = [];
    serve();
    await pullChanges();
    expect(log).toEqual(['fetch cur-2']);
    expect(await storedIds()).toEqual(range(150));
    expect(await getMeta(FIRST_SYNC_COMPLETE)).toBe(true);
  });

  it('drops the page fetched ahead when storing one fails: nothing of that page is kept, the next run resumes before it', async () => {
    serve();
    const bulkPut = db.records.bulkPut.bind(db.records);
    let puts = 0;
    vi.spyOn(db.records, 'bulkPut').mockImplementation((...args) => {
      puts += 1;
      if (puts === 2) throw new Error('disk full');
      return bulkPut(...args);
    });
    await expect(pullChanges()).rejects.toThrow('disk full');
    expect(log).toContain('fetch cur-2'); // page 3 had been asked for, and is dropped
    expect(await getMeta('cursor')).toBe('cur-1');
    expect(await storedIds()).toEqual(range(50)); // page 2's transaction was rolled back whole

    log = [];
    await pullChanges();
    expect(log).toEqual(['fetch cur-1', 'fetch cur-2']);
    expect(await storedIds()).toEqual(range(150));
    expect(await getMeta('cursor')).toBe('cur-3');
  });

  it('starts again from scratch after 410 reset_required met on a page fetched ahead', async () => {
    let resets = 0;
    serve((cursor) => (cursor === 'cur-1' && resets++ === 0 ? [410, errorBody(410, 'gone', { cursor: 'reset_required' })] : null));
    const progress = [];
    await pullChanges((p) => progress.push(p.received));
    expect(log).toEqual(['fetch start', 'fetch cur-1', 'fetch start', 'fetch cur-1', 'fetch cur-2']);
    expect(progress).toEqual([50, 50, 100, 150]);
    expect(await storedIds()).toEqual(range(150));
  });
});

describe('records sealed ahead', () => {
  it('are sealed with WebCrypto before the transaction, one AES-GCM seal a record, and open again', async () => {
    const encrypt = vi.spyOn(crypto.subtle, 'encrypt');
    const p = page(0);
    const ahead = await sealedAhead(p.changes);
    expect(encrypt).toHaveBeenCalledTimes(50);
    expect(ahead.every((row) => row._sealed instanceof Uint8Array && !('data' in row) && !('base' in row))).toBe(true);
    await applyPullPage(p, ahead);
    expect(encrypt).toHaveBeenCalledTimes(50); // nothing sealed twice
    expect((await db.records.get(['patient', 'p-7'])).data.family_name).toBe('Family7');
    expect((await db.records.get(['patient', 'p-7'])).base).toMatchObject({ version: 1, data: { family_name: 'Family7' } });
  });

  it('are not written once the key was set again (locked, unlocked): the page is sealed as it is stored instead', async () => {
    const p = page(0);
    const ahead = await sealedAhead(p.changes);
    lock();
    await unlockAfterSignIn({ user: NINA, client_id: 'c-1', access_token: 'again' });
    await applyPullPage(p, ahead);
    expect(await db.records.count()).toBe(50);
    const stored = await db.records.get(['patient', 'p-9']);
    expect(stored.data.family_name).toBe('Family9');
    // The row on disk is the one sealed now, not the stale one.
    expect(await sealedRow(['patient', 'p-9'])).not.toEqual(ahead[9]._sealed);
  });

  it('are refused when they carry `_sealed` but did not come from sealAhead in this unlock', async () => {
    const [forged] = await sealedAhead([{ entity: 'patient', id: 'p-1', version: 1, data: {}, base: null, acked: [], pending: 0 }]);
    await expect(db.records.put({ ...forged })).rejects.toThrow(/already sealed/);
    lock();
    await unlockAfterSignIn({ user: NINA, client_id: 'c-1', access_token: 'again' });
    await expect(db.records.put(forged)).rejects.toThrow(/already sealed/);
    expect(await db.records.count()).toBe(0);
  });
});

/** One row's sealed bytes, read past Dexie. */
async function sealedRow(key) {
  const idb = await new Promise((resolve, reject) => {
    const request = indexedDB.open(db.name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const row = await new Promise((resolve) => {
    const request = idb.transaction('records').objectStore('records').get(key);
    request.onsuccess = () => resolve(request.result);
  });
  idb.close();
  return row._sealed;
}
