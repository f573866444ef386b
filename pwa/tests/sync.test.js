import { beforeEach, describe, expect, it } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { configureApi } from '../src/lib/api.js';
import { createRecord, updateRecord, resendRejected } from '../src/lib/outbox.js';
import { applyPullPage, pullChanges, pushOutbox, SyncEngine } from '../src/lib/sync.js';
import { FakeServer, errorBody, signIn, wire } from './fake-server.js';

let server;

beforeEach(async () => {
  server = new FakeServer();
  configureApi({ fetch: server.fetch });
  await signIn(setMeta);
});

const page = (changes, extra = {}) => [200, { changes, evictions: [], cursor: 'cur-2', has_more: false, last_mutation_id: 0, server_time: '2025-01-01T10:00:00+00:00', ...extra }];

async function seed(...records) {
  await applyPullPage({ changes: records, evictions: [], cursor: 'cur-1', has_more: false });
}

describe('push', () => {
  it('sends the outbox in order with client_id and schema_version, applies versions', async () => {
    await seed(wire('visit', 'v-1', 4, { patient_id: 'p-1', notes: 'old', status: 'scheduled' }));
    await updateRecord('visit', 'v-1', { status: 'in_progress' });
    await updateRecord('visit', 'v-1', { notes: 'new' });
    server.on('POST /sync/push', ({ body }) => [200, {
      last_mutation_id: 2,
      results: body.mutations.map((m, i) => ({ mutation_id: m.mutation_id, status: 'applied', version: 5 + i })),
    }]);
    await pushOutbox();
    const [call] = server.calls('POST /sync/push');
    expect(call.body.client_id).toBe('c-1');
    expect(call.body.schema_version).toBe(1);
    expect(call.body.mutations.map((m) => [m.mutation_id, m.base_version, m.fields])).toEqual([
      [1, 4, { status: 'in_progress' }],
      [2, 4, { notes: 'new' }],
    ]);
    expect(await db.outbox.count()).toBe(0);
    const record = await db.records.get(['visit', 'v-1']);
    expect(record.pending).toBe(0);
    expect(record.data).toMatchObject({ status: 'in_progress', notes: 'new' });
    // The server copy stays the pulled one (v4); the applied edits wait for the pull.
    expect(record.version).toBe(4);
    expect(record.base.data).toMatchObject({ status: 'scheduled', notes: 'old' });
    expect(record.acked.map((a) => [a.mutation_id, a.version])).toEqual([[1, 5], [2, 6]]);
    expect(call.headers.Authorization).toBe('Bearer access-1');
  });

  it('never bases a new edit on a pushed version the device has not pulled', async () => {
    // This device holds v4. Another device then sets notes (v5, not pulled here). This
    // device's status change is applied as v6, a version that includes those notes.
    await seed(wire('visit', 'v-1', 4, { patient_id: 'p-1', notes: 'old', status: 'scheduled' }));
    await updateRecord('visit', 'v-1', { status: 'in_progress' });
    server.on('POST /sync/push', ({ body }) => [200, {
      last_mutation_id: 1, results: [{ mutation_id: body.mutations[0].mutation_id, status: 'applied', version: 6 }],
    }]);
    await pushOutbox();
    // Offline now: the nurse edits the notes she sees ('old'). That edit was made on v4;
    // sending base_version 6 would let it silently overwrite the other device's notes.
    await updateRecord('visit', 'v-1', { notes: 'mine' });
    const [edit] = await db.outbox.toArray();
    expect(edit.base_version).toBe(4);
    const record = await db.records.get(['visit', 'v-1']);
    expect(record.base).toMatchObject({ version: 4, data: { notes: 'old', status: 'scheduled' } });
    expect(record.data).toMatchObject({ notes: 'mine', status: 'in_progress' });
  });

  it('keeps its applied change over an older pulled copy, and drops it once a pull includes it', async () => {
    await seed(wire('goal', 'g-1', 2, { patient_id: 'p-1', title: 'Walk', times_per_week: 3 }));
    await updateRecord('goal', 'g-1', { times_per_week: 5 });
    server.on('POST /sync/push', () => [200, { last_mutation_id: 1, results: [{ mutation_id: 1, status: 'applied', version: 4 }] }]);
    await pushOutbox();
    // A page with v3 (another device's title change, before ours) keeps our change on top.
    await applyPullPage({ changes: [wire('goal', 'g-1', 3, { patient_id: 'p-1', title: 'Walk far', times_per_week: 3 })], evictions: [], cursor: 'c', has_more: true });
    let record = await db.records.get(['goal', 'g-1']);
    expect(record.data).toMatchObject({ title: 'Walk far', times_per_week: 5 });
    expect(record.version).toBe(3);
    // v4 holds our change: the server copy takes over and later edits are based on it.
    await applyPullPage({ changes: [wire('goal', 'g-1', 4, { patient_id: 'p-1', title: 'Walk far', times_per_week: 5 })], evictions: [], cursor: 'd', has_more: false });
    record = await db.records.get(['goal', 'g-1']);
    expect(record.acked).toEqual([]);
    expect(record.data).toMatchObject({ title: 'Walk far', times_per_week: 5 });
    await updateRecord('goal', 'g-1', { times_per_week: 6 });
    expect((await db.outbox.toArray()).map((e) => e.base_version)).toEqual([4]);
  });

  it('keeps showing an applied create until the pull brings it, then edits build on the pulled version', async () => {
    const id = await createRecord('goal', { patient_id: 'p-1', title: 'Walk', times_per_week: 3 });
    server.on('POST /sync/push', () => [200, { last_mutation_id: 1, results: [{ mutation_id: 1, status: 'applied', version: 1 }] }]);
    await pushOutbox();
    let record = await db.records.get(['goal', id]);
    expect(record).toMatchObject({ base: null, pending: 0, data: { title: 'Walk' } });
    await updateRecord('goal', id, { title: 'Walk daily' });
    expect((await db.outbox.toArray()).map((e) => [e.op, e.base_version])).toEqual([['update', 0]]);
    server.on('POST /sync/push', () => [200, { last_mutation_id: 2, results: [{ mutation_id: 2, status: 'applied', version: 2 }] }]);
    await pushOutbox();
    await applyPullPage({ changes: [wire('goal', id, 2, { patient_id: 'p-1', title: 'Walk daily', times_per_week: 3 })], evictions: [], cursor: 'c', has_more: false });
    record = await db.records.get(['goal', id]);
    expect(record).toMatchObject({ version: 2, acked: [], data: { title: 'Walk daily' } });
  });

  it('keeps a rejected mutation with the server field errors, never dropping it', async () => {
    const id = await createRecord('goal', { patient_id: 'p-1', title: 'Walk', times_per_week: 40 });
    server.on('POST /sync/push', () => [200, {
      last_mutation_id: 1,
      results: [{ mutation_id: 1, status: 'rejected', errors: { times_per_week: ['Must be between 1 and 21.'] } }],
    }]);
    await pushOutbox();
    expect(await db.outbox.count()).toBe(0);
    const [rejected] = await db.rejected.toArray();
    expect(rejected.mutation.fields).toMatchObject({ title: 'Walk', times_per_week: 40 });
    expect(rejected.errors).toEqual({ times_per_week: ['Must be between 1 and 21.'] });
    // The server never accepted it, so the local view no longer shows it as saved…
    expect(await db.records.get(['goal', id])).toBeUndefined();
    // …until it is corrected and resent as a new mutation.
    await resendRejected(rejected.mutation_id, { patient_id: 'p-1', title: 'Walk', times_per_week: 4 });
    const [queued] = await db.outbox.toArray();
    expect(queued).toMatchObject({ mutation_id: 2, op: 'create', id, fields: { times_per_week: 4 } });
    expect(await db.rejected.count()).toBe(0);
  });

  it('on conflict drops the entry and keeps the server value, which the pull brings', async () => {
    await seed(wire('visit', 'v-1', 4, { patient_id: 'p-1', notes: 'base' }));
    await updateRecord('visit', 'v-1', { notes: 'mine' });
    server.on('POST /sync/push', () => [200, {
      last_mutation_id: 1, results: [{ mutation_id: 1, status: 'conflict', version: 6, conflict_ids: ['k-1'] }],
    }]);
    server.on('GET /sync/pull', () => page([
      wire('visit', 'v-1', 6, { patient_id: 'p-1', notes: 'theirs' }),
      wire('conflict', 'k-1', 1, { patient_id: 'p-1', entity: 'visit', record_id: 'v-1', field: 'notes', base_value: 'base', server_value: 'theirs', client_value: 'mine', status: 'open' }),
    ]));
    await new SyncEngine().syncNow();
    expect(await db.outbox.count()).toBe(0);
    expect((await db.records.get(['visit', 'v-1'])).data.notes).toBe('theirs');
    const conflict = await db.records.get(['conflict', 'k-1']);
    expect(conflict.data).toMatchObject({ client_value: 'mine', server_value: 'theirs', status: 'open' });
  });

  it('stops at out_of_order and keeps the rest of the outbox for the next run', async () => {
    await createRecord('goal', { title: 'a' });
    await createRecord('goal', { title: 'b' });
    server.on('POST /sync/push', () => [200, {
      last_mutation_id: 0,
      results: [{ mutation_id: 1, status: 'out_of_order' }, { mutation_id: 2, status: 'out_of_order' }],
    }]);
    const result = await pushOutbox();
    expect(result.outOfOrder).toBe(true);
    expect((await db.outbox.toArray()).map((e) => e.mutation_id)).toEqual([1, 2]);
    expect(server.calls('POST /sync/push')).toHaveLength(1);
  });

  it('halves the batch on 413 and remembers a 426 until the app is updated', async () => {
    for (let i = 0; i < 3; i += 1) await createRecord('goal', { title: `g${i}` });
    const sizes = [];
    server.on('POST /sync/push', ({ body }) => {
      sizes.push(body.mutations.length);
      if (body.mutations.length > 1) return [413, errorBody(413, 'Too large')];
      return [200, { last_mutation_id: body.mutations[0].mutation_id, results: [{ mutation_id: body.mutations[0].mutation_id, status: 'applied', version: 1 }] }];
    });
    await pushOutbox();
    expect(sizes.slice(0, 3)).toEqual([3, 2, 1]);
    expect(await db.outbox.count()).toBe(0);

    await createRecord('goal', { title: 'late' });
    server.on('POST /sync/push', () => [426, errorBody(426, 'Upgrade Required')]);
    const engine = new SyncEngine();
    expect(await engine.syncNow()).toEqual({ ok: false, reason: 'update-required' });
    expect(engine.state.updateRequired).toBe(true);
    expect(await engine.syncNow()).toEqual({ ok: false, reason: 'update-required' });
    expect(server.calls('POST /sync/push').length).toBe(sizes.length + 1); // no second try
    expect(await db.outbox.count()).toBe(1);
  });
});

describe('pull', () => {
  it('re-applies pending edits on top of a pulled record', async () => {
    await seed(wire('visit', 'v-1', 4, { patient_id: 'p-1', notes: 'old', status: 'scheduled' }));
    await updateRecord('visit', 'v-1', { notes: 'my notes' });
    server.on('GET /sync/pull', () => page([wire('visit', 'v-1', 5, { patient_id: 'p-1', notes: 'old', status: 'in_progress' })]));
    await pullChanges();
    const record = await db.records.get(['visit', 'v-1']);
    expect(record.data).toMatchObject({ notes: 'my notes', status: 'in_progress' });
    expect(record.base.version).toBe(5);
    expect(record.base.data.notes).toBe('old');
    const [entry] = await db.outbox.toArray();
    expect(entry.base_version).toBe(4); // the edit still says what it was made on
    expect(await getMeta('cursor')).toBe('cur-2');
  });

  it('pages until has_more is false, reporting progress, passing the cursor back', async () => {
    await setMeta('cursor', null);
    const pages = {
      '': page([wire('patient', 'p-1', 1, { given_name: 'Ann' })], { cursor: 'a', has_more: true }),
      a: page([wire('patient', 'p-2', 1, { given_name: 'Bob' })], { cursor: 'b', has_more: false }),
    };
    server.on('GET /sync/pull', ({ query }) => pages[query.cursor || '']);
    const progress = [];
    await pullChanges((p) => progress.push(p));
    expect(progress.map((p) => [p.received, p.hasMore])).toEqual([[1, true], [2, false]]);
    expect(server.calls('GET /sync/pull').map((c) => [c.query.cursor, c.query.client_id, c.query.limit])).toEqual([
      [undefined, 'c-1', '500'],
      ['a', 'c-1', '500'],
    ]);
    expect(await db.records.where('entity').equals('patient').count()).toBe(2);
  });

  it('evicts a patient with every record of theirs, and single records', async () => {
    await seed(
      wire('patient', 'p-1', 1, { given_name: 'Ann' }),
      wire('visit', 'v-1', 1, { patient_id: 'p-1' }),
      wire('goal', 'g-1', 1, { patient_id: 'p-1', title: 'Walk' }),
      wire('patient', 'p-2', 1, { given_name: 'Bob' }),
      wire('visit', 'v-2', 1, { patient_id: 'p-2' }),
      wire('goal', 'g-2', 1, { patient_id: 'p-2', title: 'Read' }),
    );
    await applyPullPage({ changes: [], evictions: [{ entity: 'patient', id: 'p-1' }, { entity: 'goal', id: 'g-2' }], cursor: 'c', has_more: false });
    const left = (await db.records.toArray()).map((r) => `${r.entity}:${r.id}`).sort();
    expect(left).toEqual(['patient:p-2', 'visit:v-2']);
  });

  it('removes records the server deleted, unless an edit is pending', async () => {
    await seed(wire('goal', 'g-1', 1, { patient_id: 'p-1', title: 'A' }), wire('goal', 'g-2', 1, { patient_id: 'p-1', title: 'B' }));
    await updateRecord('goal', 'g-2', { title: 'B2' });
    await applyPullPage({ changes: [wire('goal', 'g-1', 2, { patient_id: 'p-1' }, true), wire('goal', 'g-2', 2, { patient_id: 'p-1' }, true)], evictions: [], cursor: 'c', has_more: false });
    expect(await db.records.get(['goal', 'g-1'])).toBeUndefined();
    const kept = await db.records.get(['goal', 'g-2']);
    expect(kept.pending).toBe(1); // the server will answer the update with a conflict
  });

  it('on 410 reset_required drops records and cursor, keeps the outbox, re-pulls from scratch', async () => {
    await setMeta('cursor', 'stale');
    await seed(wire('patient', 'p-1', 1, { given_name: 'Ann' }), wire('visit', 'v-1', 3, { patient_id: 'p-1', notes: 'x' }));
    await setMeta('cursor', 'stale');
    await updateRecord('visit', 'v-1', { notes: 'mine' });
    server.on('GET /sync/pull', ({ query }) => query.cursor
      ? [410, errorBody(410, 'Gone', { cursor: 'reset_required' })]
      : page([wire('visit', 'v-1', 4, { patient_id: 'p-1', notes: 'x', status: 'completed' })], { cursor: 'fresh' }));
    await pullChanges();
    expect(server.calls('GET /sync/pull').map((c) => c.query.cursor)).toEqual(['stale', undefined]);
    expect(await db.records.get(['patient', 'p-1'])).toBeUndefined(); // not in the fresh snapshot
    expect((await db.outbox.toArray()).map((e) => e.fields)).toEqual([{ notes: 'mine' }]);
    expect((await db.records.get(['visit', 'v-1'])).data).toMatchObject({ notes: 'mine', status: 'completed' });
    expect(await getMeta('cursor')).toBe('fresh');
  });
});

describe('sync engine', () => {
  it('pushes before it pulls and records the last sync time', async () => {
    await createRecord('goal', { patient_id: 'p-1', title: 'Walk' });
    server.on('POST /sync/push', ({ body }) => [200, { last_mutation_id: 1, results: [{ mutation_id: body.mutations[0].mutation_id, status: 'applied', version: 1 }] }]);
    server.on('GET /sync/pull', () => page([]));
    const engine = new SyncEngine();
    expect(await engine.syncNow()).toEqual({ ok: true });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /sync/push', 'GET /sync/pull']);
    expect(await getMeta('last_sync_at')).toBe(engine.state.lastSyncAt);
  });

  it('reports offline without losing anything', async () => {
    await createRecord('goal', { title: 'offline edit' });
    server.offline = true;
    const engine = new SyncEngine();
    expect(await engine.syncNow()).toEqual({ ok: false, reason: 'offline' });
    expect(engine.state.online).toBe(false);
    expect(await db.outbox.count()).toBe(1);
  });
});
