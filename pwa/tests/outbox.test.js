import { beforeEach, describe, expect, it } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { createRecord, queueMutation, renumberForClient, updateRecord, toWire } from '../src/lib/outbox.js';
import { applyPullPage } from '../src/lib/sync.js';
import { signIn, wire } from './fake-server.js';

beforeEach(() => signIn(setMeta)); // edits are only ever queued by a signed-in user

describe('outbox numbering', () => {
  it('numbers mutations from 1, consecutively, per client', async () => {
    await setMeta('client_id', 'c-1');
    const id = await createRecord('goal', { patient_id: 'p-1', title: 'Walk' });
    await updateRecord('goal', id, { title: 'Walk to the shop' });
    await updateRecord('goal', id, { times_per_week: 3 });
    const entries = await db.outbox.orderBy('mutation_id').toArray();
    expect(entries.map((e) => e.mutation_id)).toEqual([1, 2, 3]);
    expect(entries.every((e) => e.client_id === 'c-1')).toBe(true);
    expect(await getMeta('next_mutation_id')).toBe(4);
  });

  it('keeps counting after the outbox empties (ids are never reused)', async () => {
    await createRecord('goal', { patient_id: 'p-1', title: 'A' });
    await db.outbox.clear();
    const entry = await queueMutation({ entity: 'goal', id: 'g-2', op: 'create', fields: { title: 'B' } });
    expect(entry.mutation_id).toBe(2);
  });

  it('does not coalesce: each edit keeps the server version it was made on', async () => {
    await applyPullPage({ changes: [wire('visit', 'v-1', 41, { patient_id: 'p-1', notes: 'a' })], evictions: [], cursor: 'x', has_more: false });
    await updateRecord('visit', 'v-1', { notes: 'b' });
    await updateRecord('visit', 'v-1', { notes: 'c' });
    const entries = await db.outbox.orderBy('mutation_id').toArray();
    expect(entries.map((e) => [e.op, e.base_version, e.fields.notes])).toEqual([
      ['update', 41, 'b'],
      ['update', 41, 'c'],
    ]);
  });

  it('creates carry base_version 0 and the wire form has exactly the protocol fields', async () => {
    await createRecord('goal', { patient_id: 'p-1', title: 'Walk' });
    const [entry] = await db.outbox.toArray();
    expect(Object.keys(toWire(entry)).sort()).toEqual(
      ['base_version', 'client_time', 'entity', 'fields', 'id', 'mutation_id', 'op'],
    );
    expect(entry.base_version).toBe(0);
    expect(entry.client_time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('renumbers a waiting outbox from 1 for a new client_id, keeping order', async () => {
    await setMeta('client_id', 'old');
    await setMeta('next_mutation_id', 8);
    await createRecord('goal', { title: 'one' });
    await createRecord('goal', { title: 'two' });
    await renumberForClient('new');
    const entries = await db.outbox.orderBy('mutation_id').toArray();
    expect(entries.map((e) => [e.mutation_id, e.client_id, e.fields.title])).toEqual([
      [1, 'new', 'one'],
      [2, 'new', 'two'],
    ]);
    expect(await getMeta('next_mutation_id')).toBe(3);
  });

  it('refuses to update a record this device does not hold', async () => {
    await expect(updateRecord('visit', 'nope', { notes: 'x' })).rejects.toThrow(/no local visit/);
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('edit and outbox entry are one transaction', () => {
  it('writes the local record and the outbox entry together', async () => {
    const id = await createRecord('goal', { patient_id: 'p-1', title: 'Walk' });
    const record = await db.records.get(['goal', id]);
    expect(record.data).toEqual({ patient_id: 'p-1', title: 'Walk' });
    expect(record.pending).toBe(1);
    expect(record.patient_id).toBe('p-1');
    expect(record.base).toBeNull();
  });

  it('leaves the record untouched when the outbox write fails', async () => {
    await applyPullPage({ changes: [wire('visit', 'v-1', 3, { patient_id: 'p-1', notes: 'server' })], evictions: [], cursor: 'x', has_more: false });
    // Force a clash: the next id is already taken, so the outbox add throws.
    await db.outbox.add({ mutation_id: 1, entity: 'goal', id: 'g', op: 'create', fields: {} });
    await setMeta('next_mutation_id', 1);
    await expect(updateRecord('visit', 'v-1', { notes: 'local' })).rejects.toThrow();
    const record = await db.records.get(['visit', 'v-1']);
    expect(record.data.notes).toBe('server');
    expect(record.pending).toBe(0);
    expect(await getMeta('next_mutation_id')).toBe(1);
  });
});
