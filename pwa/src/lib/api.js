/**
 * api.js: every call to the server goes through `api()`.
 *
 * - Base path /api/v1, same origin; JSON in and out; errors arrive as
 *   {code, status, message, errors} and are thrown as ApiError.
 * - Access tokens live 15 minutes: one is refreshed shortly before it expires, and on a
 *   401 the call is retried once after a refresh.
 * - Refresh tokens rotate and a dead one revokes the device, so refreshing is
 *   single-flight within a tab and serialised across tabs with the Web Locks API; the
 *   new pair is stored before anything else happens.
 * - A 401 with errors.device == "revoked" wipes the device (emits "revoked").
 */
import { db, getMeta, setMeta, deleteMeta, wipeAll } from './db.js';
import { emit } from './events.js';

export const API_BASE = '/api/v1';
const REFRESH_MARGIN_MS = 60_000;

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

/** The device was revoked: wipe every local record, queue and token. */
export async function handleRevoked() {
  await wipeAll();
  emit('revoked');
}

let refreshing = null;

async function refreshOnce(staleRefreshToken) {
  const current = await getMeta('refresh_token');
  if (!current) throw new ApiError(401, { message: 'Not signed in.', errors: {} });
  // Another tab may have rotated the pair while we waited for the lock: use its result.
  if (staleRefreshToken && current !== staleRefreshToken) return;
  try {
    const body = await send('/auth/refresh', { method: 'POST', body: { refresh_token: current } });
    await storeTokens(body);
  } catch (err) {
    if (isRevoked(err)) {
      await handleRevoked();
    } else if (err instanceof ApiError && err.status === 401) {
      await clearTokens();
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

async function accessToken() {
  const token = await getMeta('access_token');
  const expiresAt = await getMeta('access_expires_at', 0);
  if (token && Date.now() < expiresAt - REFRESH_MARGIN_MS) return token;
  if (!(await getMeta('refresh_token'))) return token || null;
  await refreshTokens();
  return getMeta('access_token');
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
  if (!token) return;
  try {
    await send('/auth/logout', { method: 'POST', token });
  } catch {
    // offline: the server session dies with its tokens' expiry
  }
}

/** One call with a token the caller holds (right after login, before tokens can be stored). */
export function fetchWithToken(path, token) {
  return send(path, { token });
}

/**
 * Call the API. `auth: false` for login/enrol. Throws ApiError (server said no),
 * NetworkError (unreachable).
 */
export async function api(path, { method = 'GET', body, auth = true } = {}) {
  if (!auth) return send(path, { method, body });
  let token = await accessToken();
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
  token = await getMeta('access_token');
  try {
    return await send(path, { method, body, token });
  } catch (err) {
    if (isRevoked(err)) await handleRevoked();
    throw err;
  }
}
