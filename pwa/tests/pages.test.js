// Storing pulled pages (issue 13): each page is stored in ONE IndexedDB transaction with
// bulk reads and writes, every record of it arrives (sealed at rest), and the rules of a
// single server copy still hold inside a page: pending edits stay on top, an older copy
// never replaces a newer one, tombstones remove, a record sent twice ends at its latest.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { configureApi } from '../src/lib/api.js';
import { updateRecord } from '../src/lib/outbox.js';
import { applyPullPage, pullChanges } from '../src/lib/sync.js';
import { FakeServer, signIn, wire } from './fake-server.js';

let server;

beforeEach(async () => {
  server = new FakeServer();
  configureApi({ fetch: server.fetch });
  await signIn(setMeta);
});

afterEach(() => vi.restoreAllMocks());

const NAMES = ['Agnes Whitcombe', 'Harold Pembury', 'Mavis Tregarth'];

/** A page as the server sends it: `n` patients, each with one visit, from number `from`. */
function pageOf(n, from = 0, extra = {}) {
  const changes = [];
  for (let i = from; i < from + n; i += 1) {
    changes.push(wire('patient', `p-${i}`, 1, { given_name: NAMES[i % 3], family_name: `Family${i}`, team_id: 't-1' }));
    changes.push(wire('visit', `v-${i}`, 2, { patient_id: `p-${i}`, notes: `dressing changed ${i}` }));
  }
  return { changes, evictions: [], cursor: `cur-${from + n}`, has_more: false, last_mutation_id: 0, ...extra };
}

/** IndexedDB transactions opened while `run` runs, with their stores and modes. */
async function transactionsDuring(run) {
  const opened = [];
  // Dexie opens each IndexedDB transaction through its DBCore (db.core.transaction).
  const original = db.core.transaction;
  vi.spyOn(db.core, 'transaction').mockImplementation((stores, mode, ...rest) => {
    opened.push({ stores: [].concat(stores).sort(), mode });
    return original.call(db.core, stores, mode, ...rest);
  });
  await run();
  return opened;
}

/** Every stored row of the records store, read past Dexie (what a copied disk shows). */
async function rawRecords() {
  const idb = await new Promise((resolve, reject) => {
    const request = indexedDB.open(db.name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const rows = await new Promise((resolve) => {
    const request = idb.transaction('records').objectStore('records').getAll();
    request.onsuccess = () => resolve(request.result);
  });
  idb.close();
  return rows;
}

describe('a pulled page', () => {
  it('is stored in one IndexedDB transaction, records, cursor and counters together', async () => {
    const page = pageOf(250); // 500 changes, the server's page size
    const opened = await transactionsDuring(() => applyPullPage(page));
    expect(opened).toHaveLength(1);
    expect(opened[0].mode).toBe('readwrite');
    expect(opened[0].stores).toEqual(expect.arrayContaining(['meta', 'outbox', 'records']));
    expect(await db.records.count()).toBe(500);
    expect(await getMeta('cursor')).toBe('cur-250');
  });

  it('reads and writes its records in bulk: one bulkGet, one bulkPut, no per-record calls', async () => {
    await applyPullPage(pageOf(10)); // some records already held
    const calls = Object.fromEntries(['get', 'put', 'delete', 'bulkGet', 'bulkPut', 'bulkDelete']
      .map((name) => [name, vi.spyOn(db.records, name)]));
    await applyPullPage(pageOf(100, 5));
    expect(calls.bulkGet).toHaveBeenCalledTimes(1);
    expect(calls.bulkPut).toHaveBeenCalledTimes(1);
    expect(calls.bulkPut.mock.calls[0][0]).toHaveLength(200);
    for (const name of ['get', 'put', 'delete', 'bulkDelete']) expect(calls[name]).not.toHaveBeenCalled();
    expect(await db.records.count()).toBe(210);
  });

  it('stores every record of every page of a multi-page first sync', async () => {
    const pages = [pageOf(250, 0, { has_more: true }), pageOf(250, 250, { has_more: true }), pageOf(100, 500)];
    server.on('GET /sync/pull', () => [200, pages.shift()]);
    const progress = [];
    const result = await pullChanges((p) => progress.push(p.received));
    expect(result.received).toBe(1200);
    expect(progress).toEqual([500, 1000, 1200]);
    expect(await db.records.count()).toBe(1200);
    const visit = await db.records.get(['visit', 'v-599']);
    expect(visit).toMatchObject({ version: 2, patient_id: 'p-599', pending: 0, data: { notes: 'dressing changed 599' } });
    expect(visit.base).toMatchObject({ version: 2, data: { notes: 'dressing changed 599' } });
    const ids = (await db.records.where('entity').equals('patient').primaryKeys()).map(([, id]) => id);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 600 }, (_, i) => `p-${i}`)));
  });

  it('is sealed at rest: no name or note readable on disk, every row opens again', async () => {
    await applyPullPage(pageOf(50));
    const rows = await rawRecords();
    expect(rows).toHaveLength(100);
    const disk = JSON.stringify(rows, (k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v));
    for (const secret of [...NAMES, 'Family7', 'dressing changed']) expect(disk).not.toContain(secret);
    for (const row of rows) {
      expect(row._sealed).toBeInstanceOf(Uint8Array);
      expect(row.data).toBeUndefined();
      expect(row.base).toBeUndefined();
    }
    expect((await db.records.get(['patient', 'p-7'])).data.family_name).toBe('Family7');
  });

  it('keeps pending edits on top, skips older copies, removes tombstones, takes the latest of a record sent twice', async () => {
    await applyPullPage(pageOf(3));
    await updateRecord('visit', 'v-0', { notes: 'edited offline' });
    await applyPullPage({
      changes: [
        wire('visit', 'v-0', 3, { patient_id: 'p-0', notes: 'server notes', status: 'completed' }),
        wire('visit', 'v-1', 1, { patient_id: 'p-1', notes: 'an older copy' }),
        wire('visit', 'v-2', 3, { patient_id: 'p-2' }, true),
        wire('patient', 'p-9', 1, { given_name: 'First' }),
        wire('patient', 'p-9', 2, { given_name: 'Second' }),
        wire('patient', 'p-9', 1, { given_name: 'Older again' }),
      ],
      evictions: [],
      cursor: 'cur-next',
      has_more: false,
    });
    const edited = await db.records.get(['visit', 'v-0']);
    expect(edited).toMatchObject({ version: 3, pending: 1, data: { notes: 'edited offline', status: 'completed' } });
    expect(edited.base.data.notes).toBe('server notes');
    expect((await db.records.get(['visit', 'v-1'])).data.notes).toBe('dressing changed 1');
    expect(await db.records.get(['visit', 'v-2'])).toBeUndefined();
    expect(await db.records.get(['patient', 'p-9'])).toMatchObject({ version: 2, data: { given_name: 'Second' } });
  });
});
