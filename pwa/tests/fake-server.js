/**
 * A scripted stand-in for the Doorstep server at the network edge: it answers fetch()
 * calls with Response objects and records every request. Tests set `handlers` per
 * path ("POST /sync/push") to a function (request) → [status, body].
 */
export class FakeServer {
  constructor() {
    this.requests = [];
    this.handlers = {};
    this.offline = false;
    this.fetch = this.fetch.bind(this);
  }

  on(route, handler) {
    this.handlers[route] = handler;
    return this;
  }

  calls(route) {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  async fetch(url, init = {}) {
    if (this.offline) throw new TypeError('Failed to fetch');
    const parsed = new URL(url, 'http://doorstep.test');
    const path = parsed.pathname.replace(/^\/api\/v1/, '');
    const method = init.method || 'GET';
    const request = {
      method,
      path,
      query: Object.fromEntries(parsed.searchParams),
      headers: init.headers || {},
      body: init.body ? JSON.parse(init.body) : undefined,
    };
    this.requests.push(request);
    const handler = this.handlers[`${method} ${path}`] || (DEVICE_SECRET.test(path) && method === 'GET' ? deviceSecret : null);
    if (!handler) return json(404, { code: 404, status: 'Not Found', message: 'no handler', errors: {} });
    const [status, body] = await handler(request);
    return status === 204 ? new Response(null, { status }) : json(status, body);
  }
}

const DEVICE_SECRET = /^\/devices\/[^/]+\/secret$/;

/** Each client_id's device secret: 32 bytes made from its name (base64url). */
export function secretFor(clientId) {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i += 1) bytes[i] = (clientId.charCodeAt(i % clientId.length) * (i + 7)) & 0xff;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function deviceSecret({ path }) {
  return [200, { secret: secretFor(path.split('/')[2]), offline_unlock_seconds: 86400, idle_lock_seconds: 300, hidden_lock_seconds: 60 }];
}

export const NINA = { id: 'u-1', username: 'nina', role: 'nurse', display_name: 'Nina Nurse', team_ids: ['t-1'] };

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

export function errorBody(code, message, errors = {}) {
  return { code, status: String(code), message, errors };
}

/** A wire record as the server sends it in a pull. */
export function wire(entity, id, version, data, deleted = false) {
  return { entity, id, version, deleted, updated_at: '2025-01-01T10:00:00+00:00', data };
}

/** A signed-in device: tokens valid for 15 minutes, client c-1, a nurse. */
export async function signIn(setMeta, { clientId = 'c-1', user = NINA } = {}) {
  await setMeta('client_id', clientId);
  await setMeta('access_token', 'access-1');
  await setMeta('refresh_token', 'refresh-1');
  await setMeta('access_expires_at', Date.now() + 15 * 60 * 1000);
  await setMeta('user', user);
  await setMeta('owner', { id: user.id, username: user.username, display_name: user.display_name });
}
