// Issue 10 on the device: forms send only what changed, on the version they opened;
// a partly conflicting push shows at once; edits belong to their author; a lost refresh
// answer is asked again with the same token.
import { beforeEach, describe, expect, it } from 'vitest';
import Dexie from 'dexie';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { api, configureApi } from '../src/lib/api.js';
import { createRecord, updateRecord } from '../src/lib/outbox.js';
import { openedOn, saveEdit } from '../src/lib/editForm.js';
import { applyPullPage, pushOutbox } from '../src/lib/sync.js';
import { logout } from '../src/lib/session.js';
import { adoptLegacyStore } from '../src/lib/legacy.js';
import { setShownUser, SessionChanged } from '../src/lib/tabs.js';
import { FakeServer, errorBody, signIn, wire } from './fake-server.js';

let server;

beforeEach(async () => {
  server = new FakeServer();
  configureApi({ fetch: server.fetch });
  await signIn(setMeta);
});

const pulled = (...changes) => applyPullPage({ changes, evictions: [], cursor: 'c', has_more: false });
const goal = (version, data) => wire('goal', 'g-1', version, { patient_id: 'p-1', ...data });

describe('a form opened before a pull', () => {
  it('sends only the fields changed in it, on the version it opened on', async () => {
    await pulled(goal(3, { title: 'Walk', description: 'Slowly', times_per_week: 3 }));
    const opened = openedOn(await db.records.get(['goal', 'g-1']));
    await pulled(goal(4, { title: 'Walk', description: 'With a frame', times_per_week: 3 })); // another device
    // The form still holds what it opened with; only the title was changed in it.
    await saveEdit(opened, { title: 'Walk to the shop', description: 'Slowly', times_per_week: 3 });
    const [entry] = await db.outbox.toArray();
    expect(entry).toMatchObject({ op: 'update', base_version: 3, fields: { title: 'Walk to the shop' }, user_id: 'u-1' });
    expect((await db.records.get(['goal', 'g-1'])).data).toMatchObject({ title: 'Walk to the shop', description: 'With a frame' });
  });

  it('queues nothing when nothing was changed in it', async () => {
    await pulled(goal(3, { title: 'Walk' }));
    expect(await saveEdit(openedOn(await db.records.get(['goal', 'g-1'])), { title: 'Walk', description: '' })).toEqual({});
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('a push answered conflict', () => {
  it('shows the applied half and the server value of the conflicting field at once, conflict marked', async () => {
    await pulled(goal(3, { title: 'Walk', description: 'Slowly' }));
    await updateRecord('goal', 'g-1', { title: 'Mine', description: 'Mine too' });
    server.on('POST /sync/push', () => [200, { last_mutation_id: 1, results: [{ mutation_id: 1, status: 'conflict', version: 5, conflict_ids: ['k-1'] }] }]);
    server.on('GET /conflicts', ({ query }) => [200, {
      next_after: null,
      items: query.record_id === 'g-1' ? [wire('conflict', 'k-1', 1, {
        patient_id: 'p-1', entity: 'goal', record_id: 'g-1', field: 'title', base_value: 'Walk',
        server_value: 'Theirs', client_value: 'Mine', status: 'open',
      })] : [],
    }]);
    await pushOutbox(); // no pull follows: the answer alone must show it
    const record = await db.records.get(['goal', 'g-1']);
    expect(record.data).toMatchObject({ title: 'Theirs', description: 'Mine too' });
    expect(record.version).toBe(3); // still based on the pulled copy
    expect((await db.records.get(['conflict', 'k-1'])).data).toMatchObject({ field: 'title', status: 'open' });
    // The pull of v5 then takes over.
    await pulled(goal(5, { title: 'Theirs', description: 'Mine too' }));
    expect((await db.records.get(['goal', 'g-1'])).acked).toEqual([]);
  });

  it('waits for the pull when the conflict records cannot be fetched', async () => {
    await pulled(goal(3, { title: 'Walk' }));
    await updateRecord('goal', 'g-1', { title: 'Mine' });
    server.on('POST /sync/push', () => [200, { last_mutation_id: 1, results: [{ mutation_id: 1, status: 'conflict', version: 5, conflict_ids: ['k-1'] }] }]);
    await pushOutbox(); // GET /conflicts answers 404 here
    expect((await db.records.get(['goal', 'g-1'])).data.title).toBe('Walk');
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('every queued change belongs to its author', () => {
  it('is not queued from a tab showing someone else, nor with nobody signed in', async () => {
    await signIn(setMeta, { user: { id: 'u-2', username: 'bob', role: 'nurse', display_name: 'Bob', team_ids: [] } });
    setShownUser('u-1'); // this tab still shows Nina
    await expect(createRecord('goal', { title: 'x' })).rejects.toBeInstanceOf(SessionChanged);
    expect(await db.outbox.count()).toBe(0);
    await logout({ force: true }); // signed out, the person's store is locked too
    await expect(createRecord('goal', { title: 'x' })).rejects.toThrow();
  });

  it('pushes only the signed-in user’s changes; another user’s wait for them', async () => {
    await createRecord('goal', { title: 'by Nina' });
    await setMeta('user', { id: 'u-2', username: 'bob' });
    server.on('POST /sync/push', () => [200, { last_mutation_id: 0, results: [] }]);
    expect(await pushOutbox()).toEqual({ outOfOrder: false, pushed: 0 });
    expect(server.calls('POST /sync/push')).toHaveLength(0);
    expect(await db.outbox.count()).toBe(1);
  });
});

describe('a refresh whose answer was lost', () => {
  it('is asked again with the same refresh token, and its pair is used', async () => {
    await setMeta('access_expires_at', 0);
    let calls = 0;
    const realFetch = server.fetch;
    configureApi({
      fetch: async (url, init) => {
        const response = await realFetch(url, init);
        if (String(url).endsWith('/auth/refresh') && (calls += 1) === 1) throw new TypeError('Failed to fetch');
        return response;
      },
    });
    server.on('POST /auth/refresh', ({ body }) => (body.refresh_token === 'refresh-1'
      ? [200, { access_token: 'access-2', refresh_token: 'refresh-2', token_type: 'Bearer', expires_in: 900 }]
      : [401, errorBody(401, 'Revoked.', { device: 'revoked' })]));
    server.on('GET /me', ({ headers }) => [200, { token: headers.Authorization }]);
    expect((await api('/me')).token).toBe('Bearer access-2');
    expect(server.calls('POST /auth/refresh').map((r) => r.body.refresh_token)).toEqual(['refresh-1', 'refresh-1']);
    expect(await getMeta('refresh_token')).toBe('refresh-2');
  });
});

describe('an outbox queued before entries named their author', () => {
  it('is given to the user who adopts it from the plain-text release', async () => {
    const before = new Dexie('doorstep');
    before.version(1).stores({ records: '[entity+id], entity, patient_id, [entity+patient_id]', outbox: 'mutation_id, [entity+id]', meta: 'key', rejected: 'mutation_id, [entity+id]' });
    await before.open();
    await before.table('meta').put({ key: 'owner', value: { id: 'u-7', username: 'nina' } });
    await before.table('outbox').add({ mutation_id: 1, entity: 'goal', id: 'g-1', op: 'create', fields: {} });
    await before.table('rejected').add({ mutation_id: 2, entity: 'goal', id: 'g-2', mutation: { mutation_id: 2, fields: {} }, errors: {} });
    before.close();
    expect(await adoptLegacyStore({ id: 'u-7', username: 'nina' })).toBe(2);
    expect((await db.outbox.get(1)).user_id).toBe('u-7');
    expect((await db.rejected.get(2)).mutation.user_id).toBe('u-7');
  });
});
