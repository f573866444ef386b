import { beforeEach, describe, expect, it } from 'vitest';
import { db, getMeta, setMeta } from '../src/lib/db.js';
import { api, configureApi } from '../src/lib/api.js';
import { on } from '../src/lib/events.js';
import { createRecord } from '../src/lib/outbox.js';
import { currentUser, login, logout } from '../src/lib/session.js';
import { applyPullPage } from '../src/lib/sync.js';
import { FakeServer, errorBody, signIn, wire } from './fake-server.js';

let server;
let issued;

function tokenPair() {
  issued += 1;
  return { access_token: `access-${issued}`, refresh_token: `refresh-${issued}`, token_type: 'Bearer', expires_in: 900 };
}

beforeEach(() => {
  server = new FakeServer();
  issued = 1;
  configureApi({ fetch: server.fetch });
  server.on('POST /auth/refresh', ({ body }) => body.refresh_token === `refresh-${issued}`
    ? [200, { ...tokenPair(), client_id: 'c-1', user: { id: 'u-1' } }]
    : [401, errorBody(401, 'Refresh token is not valid.', { device: 'revoked' })]);
  server.on('GET /me', ({ headers }) => [200, { id: 'u-1', token: headers.Authorization }]);
});

describe('token refresh', () => {
  it('refreshes an access token that is about to expire, storing the rotated pair at once', async () => {
    await signIn(setMeta);
    await setMeta('access_expires_at', Date.now() + 10_000);
    const me = await api('/me');
    expect(server.calls('POST /auth/refresh')).toHaveLength(1);
    expect(me.token).toBe('Bearer access-2');
    expect(await getMeta('refresh_token')).toBe('refresh-2');
  });

  it('refreshes once for many concurrent calls (a second refresh would revoke the device)', async () => {
    await signIn(setMeta);
    await setMeta('access_expires_at', 0);
    const results = await Promise.all([api('/me'), api('/me'), api('/me')]);
    expect(server.calls('POST /auth/refresh')).toHaveLength(1);
    expect(results.map((r) => r.token)).toEqual(['Bearer access-2', 'Bearer access-2', 'Bearer access-2']);
  });

  it('retries once after a 401 with a fresh token', async () => {
    await signIn(setMeta);
    let first = true;
    server.on('GET /me', ({ headers }) => {
      if (first) {
        first = false;
        return [401, errorBody(401, 'Token expired.')];
      }
      return [200, { token: headers.Authorization }];
    });
    expect((await api('/me')).token).toBe('Bearer access-2');
  });

  it('ends the session and removes patient records when the device is revoked, but keeps unsent changes', async () => {
    await signIn(setMeta);
    await applyPullPage({ changes: [wire('patient', 'p-1', 1, { given_name: 'Ann' })], evictions: [], cursor: 'c-9', has_more: false });
    await createRecord('goal', { patient_id: 'p-1', title: 'unsent' });
    let revoked = false;
    const off = on('revoked', () => { revoked = true; });
    server.on('GET /me', () => [401, errorBody(401, 'Device revoked.', { device: 'revoked' })]);
    await expect(api('/me')).rejects.toMatchObject({ status: 401 });
    off();
    expect(revoked).toBe(true);
    expect(await db.records.count()).toBe(0);
    expect(await getMeta('refresh_token')).toBeUndefined();
    expect(await currentUser()).toBeNull();
    // Never wiped without telling the person: kept for their author, with the numbering.
    expect((await db.outbox.toArray()).map((e) => e.fields.title)).toEqual(['unsent']);
    expect((await getMeta('owner')).username).toBe('nina');
    expect(await getMeta('next_mutation_id')).toBe(2);
  });
});

describe('session', () => {
  const loginResponse = (clientId) => ({
    ...tokenPair(), client_id: clientId,
    user: { id: 'u-1', username: 'nina', role: 'nurse', display_name: 'Nina Nurse', team_ids: ['t-1'] },
  });

  it('sends the stored client_id at login and keeps numbering when the server keeps it', async () => {
    await setMeta('client_id', 'c-1');
    await setMeta('next_mutation_id', 5);
    server.on('POST /auth/login', ({ body }) => [200, loginResponse(body.client_id)]);
    server.on('GET /me', () => [200, { id: 'u-1', patient_id: null }]);
    const user = await login({ username: 'nina', password: 'pw-long-enough', deviceName: 'Tablet' });
    expect(server.calls('POST /auth/login')[0].body).toEqual({ username: 'nina', password: 'pw-long-enough', device_name: 'Tablet', client_id: 'c-1' });
    expect(user.role).toBe('nurse');
    expect(await getMeta('next_mutation_id')).toBe(5);
  });

  it('warns before logging out with unsent changes, and keeps them when forced', async () => {
    await signIn(setMeta);
    await createRecord('goal', { patient_id: 'p-1', title: 'unsent' });
    server.on('POST /auth/logout', () => [204, null]);
    expect(await logout()).toEqual({ loggedOut: false, waiting: 1 });
    expect(server.calls('POST /auth/logout')).toHaveLength(0);
    expect(await logout({ force: true })).toEqual({ loggedOut: true, waiting: 1 });
    const [logoutCall] = server.calls('POST /auth/logout');
    expect(logoutCall.headers.Authorization).toBe('Bearer access-1');
    expect(server.calls('POST /auth/refresh')).toHaveLength(0);
    expect(await db.outbox.count()).toBe(1);
    expect(await db.records.count()).toBe(0); // patient data leaves the device
    expect(await getMeta('refresh_token')).toBeUndefined();
    // The store is locked after sign-out (its values are sealed): signing in again opens it.
    server.on('POST /auth/login', ({ body }) => [200, loginResponse(body.client_id)]);
    await login({ username: 'nina', password: 'x' });
    expect((await getMeta('owner')).username).toBe('nina');
  });

  // Shared tablets (issue 15): each person has their own sealed store, so someone else
  // signing in neither sees nor sends the first person's unsent changes; they wait,
  // sealed, in the first person's store until that person signs in again.
  it('gives someone else their own store: the first person’s unsent changes stay apart', async () => {
    await signIn(setMeta);
    await createRecord('goal', { title: 'unsent' });
    await logout({ force: true });
    const other = { ...loginResponse('c-9'), user: { id: 'u-2', username: 'other', role: 'nurse', display_name: 'Olly', team_ids: [] } };
    server.on('POST /auth/login', ({ body }) => [200, body.username === 'other' ? other : loginResponse(body.client_id)]);
    server.on('GET /me', () => [200, { patient_id: null }]);
    await login({ username: 'other', password: 'x' });
    expect(server.calls('POST /auth/login')[0].body.client_id).toBeUndefined();
    expect(await db.outbox.count()).toBe(0);
    expect(await db.records.count()).toBe(0);
    await logout();
    await login({ username: 'nina', password: 'x' });
    expect(server.calls('POST /auth/login')[1].body.client_id).toBe('c-1');
    expect(await db.outbox.count()).toBe(1);
  });

  it('renumbers the waiting outbox when the server issues a new client_id', async () => {
    await signIn(setMeta);
    await setMeta('next_mutation_id', 12);
    await createRecord('goal', { title: 'unsent' });
    await db.meta.delete('refresh_token'); // the session expired while the app was open (unlocked)
    server.on('POST /auth/login', () => [200, loginResponse('c-new')]);
    server.on('GET /me', () => [200, { id: 'u-1', patient_id: null }]);
    await login({ username: 'Nina', password: 'x' });
    const [entry] = await db.outbox.toArray();
    expect(entry).toMatchObject({ mutation_id: 1, client_id: 'c-new' });
    expect(await getMeta('client_id')).toBe('c-new');
    expect(await getMeta('next_mutation_id')).toBe(2);
  });
});

describe('signing out', () => {
  it('never presents the refresh token after the server session ended', async () => {
    await signIn(setMeta);
    let inFlight;
    server.on('GET /me', () => [401, errorBody(401, 'Session expired.', { token: ['Expired.'] })]);
    server.on('POST /auth/logout', async () => {
      // A sync still running when the server ends the session gets a 401 …
      inFlight = api('/me').catch((err) => err);
      await inFlight;
      return [204, null];
    });
    await logout();
    expect((await inFlight).status).toBe(401);
    // … and must not answer it by presenting the (now dead) refresh token.
    expect(server.calls('POST /auth/refresh')).toHaveLength(0);
  });
});

describe('a session that expired without signing out', () => {
  it('counts as signed out, and the next user does not see the previous user’s records', async () => {
    await signIn(setMeta);
    await applyPullPage({ changes: [wire('patient', 'p-1', 1, { given_name: 'Ann' })], evictions: [], cursor: 'c-9', has_more: false });
    await db.meta.delete('refresh_token');
    expect(await currentUser()).toBeNull();
    server.on('POST /auth/login', () => [200, { ...tokenPair(), client_id: 'c-1', user: { id: 'u-2', username: 'cora', role: 'coordinator', display_name: 'Cora', team_ids: [] } }]);
    server.on('GET /me', () => [200, { id: 'u-2', patient_id: null }]);
    await login({ username: 'cora', password: 'x' });
    expect(await db.records.count()).toBe(0);
    expect(await getMeta('cursor')).toBeUndefined();
    expect((await currentUser()).id).toBe('u-2');
  });
});
