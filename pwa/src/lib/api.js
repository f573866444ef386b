/**
 * api.js: every call to the server goes through `api()`.
 *
 * - Base path /api/v1, same origin; JSON in and out; errors arrive as
 *   {code, status, message, errors} and are thrown as ApiError.
 * - Access tokens live 15 minutes: one is refreshed shortly before it expires, and on a
 *   401 the call is retried once after a refresh.
 * - Refresh tokens rotate and a dead one revokes the device, so refreshing is
 *   single-flight within a tab and serialised across tabs with the Web Locks API; the
 *   new pair is stored before anything else happens. A refresh whose answer was lost
 *   (network error) is asked again with the same refresh token: the server answers a
 *   retry of the previous token, within a short grace window, with the same new pair.
 * - A 401 with errors.device == "revoked" ends the session and removes the patient
 *   records, but keeps unsent changes until the person decides (emits "revoked").
 * - `api(path, {asUser})` sends only with tokens of that user (sync pushes a user's own
 *   changes only, whatever another tab did to the session meanwhile).
 */
import { db, getMeta, setMeta, deleteMeta } from './db.js';
import { emit } from './events.js';
import { announceSession, setShownUser, SessionChanged } from './tabs.js';

export const API_BASE = '/api/v1';
const REFRESH_MARGIN_MS = 60_000;
// Waits before asking again for a refresh whose answer was lost.
const REFRESH_RETRY_MS = [300, 1500];

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = (body && body.errors) || {};
    this.body = body;
  }
}

/** The server could not be reached (offline, DNS, connection refused). */
export class NetworkError extends Error {
  constructor(cause) {
    super('The server could not be reached.');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

let fetchImpl = (...args) => globalThis.fetch(...args);
let origin = '';

/** Tests point the client at a fake server; the app uses the page's own fetch. */
export function configureApi({ fetch, baseOrigin } = {}) {
  if (fetch) fetchImpl = fetch;
  if (baseOrigin !== undefined) origin = baseOrigin;
}

async function send(path, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetchImpl(`${origin}${API_BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    throw new NetworkError(err);
  }
  if (response.status === 204) return null;
  let parsed = null;
  const text = await response.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export function isRevoked(err) {
  return err instanceof ApiError && err.status === 401 && err.errors && err.errors.device === 'revoked';
}

/** Store a token pair from login or refresh. */
export async function storeTokens(body) {
  await db.transaction('rw', db.meta, async () => {
    await setMeta('access_token', body.access_token);
    await setMeta('refresh_token', body.refresh_token);
    await setMeta('access_expires_at', Date.now() + (Number(body.expires_in) || 900) * 1000);
  });
}

export async function clearTokens() {
  await deleteMeta('access_token', 'refresh_token', 'access_expires_at');
}

/**
 * The device was revoked: the session and every patient record leave the device at
 * once. Unsent changes (outbox, needs correction) stay, with their owner and the
 * device's numbering, until their author signs in again to send them or the person
 * confirms deleting them (see unsentCount in session.js and the sign-in screen).
 */
export async function handleRevoked() {
  await db.transaction('rw', db.records, db.meta, async () => {
    await db.records.clear();
    await clearTokens();
    await deleteMeta('user', 'cursor', 'last_sync_at', 'push_subscription', 'chosen_patient_id', 'server_time');
  });
  setShownUser(null);
  announceSession({ type: 'signed-out', reason: 'revoked' });
  emit('revoked');
}

let refreshing = null;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** POST /auth/refresh, asking again with the same token when the answer was lost. */
async function sendRefresh(refreshToken) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send('/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } });
    } catch (err) {
      // The server may have rotated the pair and the answer got lost: a new token would
      // not exist here, and a different one would look like theft. Same token again.
      if (!(err instanceof NetworkError) || attempt >= REFRESH_RETRY_MS.length) throw err;
      await pause(REFRESH_RETRY_MS[attempt]);
    }
  }
}

async function refreshOnce(staleRefreshToken) {
  const current = await getMeta('refresh_token');
  if (!current) throw new ApiError(401, { message: 'Not signed in.', errors: {} });
  // Another tab may have rotated the pair while we waited for the lock: use its result.
  if (staleRefreshToken && current !== staleRefreshToken) return;
  try {
    const body = await sendRefresh(current);
    await db.transaction('rw', db.meta, async () => {
      // Only over the pair it replaces: a sign-out (and someone's sign-in) may have
      // happened in another tab while this answer was on its way.
      if ((await getMeta('refresh_token')) === current) await storeTokens(body);
    });
  } catch (err) {
    if (isRevoked(err)) {
      await handleRevoked();
    } else if (err instanceof ApiError && err.status === 401) {
      await clearTokens();
      announceSession({ type: 'signed-out', reason: 'expired' });
      emit('session-expired');
    }
    throw err;
  }
}

/** Swap the refresh token for a new pair, once at a time across tabs. */
export function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const seen = await getMeta('refresh_token');
      const locks = globalThis.navigator && globalThis.navigator.locks;
      if (locks && locks.request) {
        await locks.request('doorstep-token-refresh', () => refreshOnce(seen));
      } else {
        await refreshOnce(seen);
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** The access token and the user it belongs to, read together. */
async function readSession() {
  return db.transaction('r', db.meta, async () => ({
    token: await getMeta('access_token'),
    expiresAt: await getMeta('access_expires_at', 0),
    hasRefresh: Boolean(await getMeta('refresh_token')),
    userId: (await getMeta('user', null))?.id ?? null,
  }));
}

/** A usable access token (refreshed when due); with `asUser`, only one of that user. */
async function accessToken(asUser) {
  let session = await readSession();
  if (!(session.token && Date.now() < session.expiresAt - REFRESH_MARGIN_MS) && session.hasRefresh) {
    await refreshTokens();
    session = await readSession();
  }
  if (asUser !== undefined && session.userId !== asUser) throw new SessionChanged();
  return session.token || null;
}

/** End one server session by its access token; offline or already dead is fine. */
export async function logoutToken(token) {
  if (!token) return;
  try {
    await send('/auth/logout', { method: 'POST', token });
  } catch {
    // offline: the server session dies with its tokens' expiry
  }
}

/**
 * End this device's session on the server. Tokens are dropped locally first, so a sync
 * still in flight can never present the refresh token after the server killed it (a
 * dead refresh token would revoke the device).
 */
export async function endSession() {
  let token = null;
  try {
    token = await accessToken();
  } catch {
    // offline or already expired: the local session ends anyway
  }
  await clearTokens();
  await logoutToken(token);
}

/** One call with a token the caller holds (right after login, before tokens can be stored). */
export function fetchWithToken(path, token) {
  return send(path, { token });
}

/**
 * Call the API. `auth: false` for login/enrol. Throws ApiError (server said no),
 * NetworkError (unreachable). `onSend` is called when the request goes out, its token
 * read: a caller about to open a write transaction on meta waits for that (sync.js's
 * pipelined pull), or the token read would wait for the whole transaction.
 */
export async function api(path, { method = 'GET', body, auth = true, asUser, onSend = () => {} } = {}) {
  if (!auth) return send(path, { method, body });
  let token = await accessToken(asUser);
  onSend();
  try {
    return await send(path, { method, body, token });
  } catch (err) {
    if (isRevoked(err)) {
      await handleRevoked();
      throw err;
    }
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }
  await refreshTokens();
  token = await accessToken(asUser);
  try {
    return await send(path, { method, body, token });
  } catch (err) {
    if (isRevoked(err)) await handleRevoked();
    throw err;
  }
}
