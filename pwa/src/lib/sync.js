/**
 * sync.js: push the outbox, then pull what changed (SPEC §3.2–3.3).
 *
 * Invariants:
 *  - push before pull, one run at a time; runs on start, on `online`, every 60 s while
 *    the app is open, soon after a local edit, and on "Sync now";
 *  - push results: applied → entry leaves the outbox and joins the record's `acked`
 *    overlay until a pulled copy at or after the returned version replaces it; the
 *    server copy (`base`) and so the base_version of new edits stay at the last pulled
 *    version, because the returned version can include other devices' changes this
 *    device has not seen; conflict → entry leaves the outbox; its conflict records are
 *    fetched at once, so the applied half joins `acked` and the conflicting fields show
 *    the server's value, with the conflict marked (without them, both wait for the
 *    pull); rejected → entry moves to `rejected` with the server's field errors (never
 *    dropped silently); out_of_order → stop, retry on the next run;
 *  - a push sends only the signed-in user's own changes, with that user's tokens: the
 *    outbox is pushed in order up to the first entry someone else made;
 *  - a pulled record never overwrites pending local edits: they are re-applied on top;
 *  - each pulled page (changes, evictions, cursor) is stored in one transaction, so the
 *    cursor never runs ahead of the data it covers; its records with bulk reads and
 *    writes (serverCopies.js), because storing pages is most of a first sync's time;
 *  - pipelined: while a page is stored the next is downloaded and sealed ahead; pages
 *    are stored one at a time in the server's order, and one fetched ahead of a page
 *    that failed is dropped, so the next run resumes from the last stored cursor;
 *  - 410 reset_required → drop records and cursor, keep the outbox, pull from scratch;
 *    426 → the app must be updated; pushing stops until then.
 */
import { db, getMeta, setMeta, deleteMeta, pendingFor, writeMaterialised, ackedAfter } from './db.js';
import { api, ApiError, NetworkError } from './api.js';
import { storeServerCopy, storeServerCopies, sealedAhead, fetchConflicts, conflictOutcome } from './serverCopies.js';
import { toWire, onQueued } from './outbox.js';
import { BUILD_ID } from './build.js';

export const SCHEMA_VERSION = 1;
export const PULL_LIMIT = 500;
const PUSH_BATCH = 200;

// ---------------------------------------------------------------- push

/**
 * Store one push response (and the conflict records it named, when fetched).
 * Returns {outOfOrder} when the server wants an earlier id.
 */
export async function applyPushResults(batch, response, conflicts = new Map()) {
  const byId = new Map(batch.map((entry) => [entry.mutation_id, entry]));
  return db.transaction('rw', db.records, db.outbox, db.rejected, db.meta, async () => {
    let outOfOrder = false;
    for (const result of response.results || []) {
      const entry = byId.get(result.mutation_id);
      if (!entry) continue;
      if (result.status === 'out_of_order') {
        outOfOrder = true;
        break;
      }
      await db.outbox.delete(entry.mutation_id);
      const local = await db.records.get([entry.entity, entry.id]);
      const base = local ? local.base : null;
      let acked = local ? local.acked || [] : [];
      if (result.status === 'applied') {
        // Keep showing our change until the pull brings the server copy that has it,
        // but never take result.version as our base: it can cover other devices'
        // changes we have not pulled, and an edit "based" on it would overwrite them
        // without a conflict.
        const pulled = base ? base.version : 0;
        const version = typeof result.version === 'number' ? result.version : pulled + 1;
        const ack = { mutation_id: entry.mutation_id, op: entry.op, fields: entry.fields, version };
        acked = ackedAfter([...acked, ack], pulled);
      } else if (result.status === 'conflict') {
        for (const id of result.conflict_ids || []) if (conflicts.has(id)) await storeServerCopy(conflicts.get(id));
        const outcome = conflictOutcome(entry, result, conflicts);
        if (outcome) acked = ackedAfter([...acked, outcome], base ? base.version : 0);
      } else if (result.status === 'rejected') {
        await db.rejected.put({
          mutation_id: entry.mutation_id,
          entity: entry.entity,
          id: entry.id,
          mutation: entry,
          errors: result.errors || {},
          rejected_at: new Date().toISOString(),
        });
      }
      if (local) await writeMaterialised(entry.entity, entry.id, base, await pendingFor(entry.entity, entry.id), acked);
    }
    if (typeof response.last_mutation_id === 'number') await setMeta('server_last_mutation_id', response.last_mutation_id);
    return { outOfOrder };
  });
}

/**
 * The next entries to push: oldest first, up to the first one made by anyone but the
 * signed-in user (those wait for their author), read with that user in one transaction.
 */
async function nextBatch(size) {
  return db.transaction('r', db.outbox, db.meta, async () => {
    const user = await getMeta('user', null);
    const entries = await db.outbox.orderBy('mutation_id').limit(size).toArray();
    const theirs = entries.findIndex((entry) => !user || entry.user_id !== user.id);
    return { userId: user ? user.id : null, batch: theirs === -1 ? entries : entries.slice(0, theirs) };
  });
}

/** Push the signed-in user's outbox in batches. Returns {outOfOrder, pushed}. */
export async function pushOutbox() {
  const clientId = await getMeta('client_id');
  let batchSize = PUSH_BATCH;
  let pushed = 0;
  for (;;) {
    const { userId, batch } = await nextBatch(batchSize);
    if (batch.length === 0) return { outOfOrder: false, pushed };
    let response;
    try {
      response = await api('/sync/push', {
        method: 'POST',
        asUser: userId,
        body: { client_id: clientId, schema_version: SCHEMA_VERSION, mutations: batch.map(toWire) },
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 413 && batch.length > 1) {
        batchSize = Math.ceil(batch.length / 2);
        continue;
      }
      throw err;
    }
    const { outOfOrder } = await applyPushResults(batch, response, await fetchConflicts(batch, response));
    pushed += (response.results || []).length;
    if (outOfOrder) return { outOfOrder: true, pushed };
    if ((response.results || []).length === 0) return { outOfOrder: false, pushed };
  }
}

// ---------------------------------------------------------------- pull

async function dropRecord(entity, id) {
  const pending = await pendingFor(entity, id);
  // Pending edits stay queued (the server answers them, as rejected if out of scope).
  if (pending.length) await writeMaterialised(entity, id, null, pending);
  else await db.records.delete([entity, id]);
}

/**
 * Store one pulled page. Call with the page exactly as the server sent it, and what
 * sealedAhead made of its changes when that was done already.
 */
export async function applyPullPage(page, ahead = undefined) {
  const prepared = ahead || (await sealedAhead(page.changes || []));
  await db.transaction('rw', db.records, db.outbox, db.meta, async () => {
    await storeServerCopies(page.changes || [], prepared);
    for (const eviction of page.evictions || []) {
      if (eviction.entity === 'patient') {
        const keys = await db.records.where('patient_id').equals(eviction.id).primaryKeys();
        for (const [entity, id] of keys) await dropRecord(entity, id);
        await dropRecord('patient', eviction.id);
      } else {
        await dropRecord(eviction.entity, eviction.id);
      }
    }
    if (page.cursor !== undefined) await setMeta('cursor', page.cursor);
    if (typeof page.last_mutation_id === 'number') {
      await setMeta('server_last_mutation_id', page.last_mutation_id);
      // A device whose local numbering fell behind the server's (data cleared without a
      // new client_id) must not reuse ids the server would answer as replays.
      const next = await getMeta('next_mutation_id', 1);
      if ((await db.outbox.count()) === 0 && next <= page.last_mutation_id) {
        await setMeta('next_mutation_id', page.last_mutation_id + 1);
      }
    }
    if (page.server_time) await setMeta('server_time', page.server_time);
  });
}

/**
 * The server can no longer serve our cursor: forget the cursor and every record that
 * has no pending edit. The outbox (and the records it edits) stay.
 */
export async function resetForFullPull() {
  await db.transaction('rw', db.records, db.outbox, db.meta, async () => {
    const pendingKeys = new Set((await db.outbox.toArray()).map((m) => `${m.entity}\u0000${m.id}`));
    const keys = await db.records.toCollection().primaryKeys();
    const drop = keys.filter(([entity, id]) => !pendingKeys.has(`${entity}\u0000${id}`));
    await db.records.bulkDelete(drop);
    await deleteMeta('cursor');
  });
}

function isResetRequired(err) {
  return err instanceof ApiError && err.status === 410 && err.errors && err.errors.cursor === 'reset_required';
}

/** meta key: set when a pull from no cursor reached its last page (see useFirstSync). */
export const FIRST_SYNC_COMPLETE = 'first_sync_complete';

/**
 * Ask for the page after `cursor` and seal its records ahead, while the previous page is
 * stored; a failure shows when awaited (never, if that page failed first). `sent`: the
 * request is out (or failed).
 */
function fetchPage(clientId, cursor) {
  const query = new URLSearchParams({ client_id: clientId, limit: String(PULL_LIMIT) });
  if (cursor) query.set('cursor', cursor);
  let onSend;
  const out = new Promise((resolve) => { onSend = resolve; });
  const fetched = api(`/sync/pull?${query}`, { onSend })
    .then(async (page) => ({ page, ahead: await sealedAhead(page.changes || []) }));
  fetched.catch(() => {}); // not an unhandled rejection when it is dropped
  return { fetched, sent: Promise.race([out, fetched.then(() => {}, () => {})]) };
}

/**
 * Pull until has_more is false. onProgress({received, hasMore, full}) after each stored
 * page; `full`: this pull is a download from scratch (it started without a cursor).
 */
export async function pullChanges(onProgress = () => {}) {
  const clientId = await getMeta('client_id');
  const cursor = await getMeta('cursor', null);
  let received = 0;
  let resets = 0;
  let full = !cursor;
  if (full) await deleteMeta(FIRST_SYNC_COMPLETE); // a download from scratch starts
  let next = fetchPage(clientId, cursor);
  for (;;) {
    let fetched;
    try {
      fetched = await next.fetched;
    } catch (err) {
      if (isResetRequired(err) && resets === 0) {
        resets += 1;
        await resetForFullPull();
        await deleteMeta(FIRST_SYNC_COMPLETE);
        full = true;
        received = 0;
        next = fetchPage(clientId, null);
        continue;
      }
      throw err;
    }
    const { page, ahead } = fetched;
    // The next page downloads (and is sealed) while this one is stored: its token is
    // read from meta before this page's transaction on meta opens.
    if (page.has_more) {
      next = fetchPage(clientId, page.cursor);
      await next.sent;
    }
    await applyPullPage(page, ahead);
    received += (page.changes || []).length;
    onProgress({ received, hasMore: Boolean(page.has_more), full });
    if (!page.has_more) {
      await setMeta(FIRST_SYNC_COMPLETE, true);
      return { received };
    }
  }
}

// ---------------------------------------------------------------- the engine

/**
 * One sync at a time across tabs of this app (Web Locks where the browser has them):
 * a second tab's run waits for the first instead of pushing the same outbox twice.
 */
function withSyncLock(task) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  return locks && locks.request ? locks.request('doorstep-sync', task) : task();
}

const initialState = {
  running: false,
  phase: 'idle', // idle | pushing | pulling
  online: true,
  progress: null, // {received, hasMore} during a pull
  error: null, // a sentence for people
  problem: null, // what went wrong, for wording it per role: signed-out | failed
  updateRequired: false,
  outOfOrder: false,
  lastSyncAt: null,
};

/** Runs sync and tells subscribers (the status bar) how it goes. */
export class SyncEngine {
  constructor({ intervalMs = 60_000, debounceMs = 1500 } = {}) {
    this.intervalMs = intervalMs;
    this.debounceMs = debounceMs;
    this.state = { ...initialState, online: globalThis.navigator ? navigator.onLine !== false : true };
    this.listeners = new Set();
    this.current = null;
    this.again = false;
    this.timers = [];
    this.cleanups = [];
  }

  subscribe(listener) {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  set(patch) {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  /** Run push then pull now (or join the run in progress and run once more after). */
  syncNow() {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = this.run().finally(() => {
      this.current = null;
      if (this.again) {
        this.again = false;
        this.syncNow();
      }
    });
    return this.current;
  }

  async run() {
    if (!(await getMeta('refresh_token'))) return { ok: false, reason: 'signed-out' };
    if ((await getMeta('update_required', null)) === BUILD_ID) {
      this.set({ updateRequired: true });
      return { ok: false, reason: 'update-required' };
    }
    this.set({ running: true, phase: 'pushing', error: null, problem: null, progress: null });
    try {
      return await withSyncLock(() => this.pushThenPull());
    } catch (err) {
      return { ok: false, reason: await this.explain(err) };
    } finally {
      this.set({ running: false, phase: 'idle' });
    }
  }

  async pushThenPull() {
    const { outOfOrder } = await pushOutbox();
    this.set({ phase: 'pulling', outOfOrder });
    await pullChanges((progress) => this.set({ progress }));
    const lastSyncAt = new Date().toISOString();
    await setMeta('last_sync_at', lastSyncAt);
    this.set({ online: true, lastSyncAt, progress: null });
    if (outOfOrder) this.soon(5000);
    return { ok: true };
  }

  async explain(err) {
    if (err instanceof NetworkError) {
      this.set({ online: false, error: null, problem: null });
      return 'offline';
    }
    if (err instanceof ApiError && err.status === 426) {
      // Remembered for this build only: the next release syncs again.
      await setMeta('update_required', BUILD_ID);
      this.set({ updateRequired: true, error: 'This app must be updated before it can sync. Reload to update.' });
      return 'update-required';
    }
    if (err instanceof ApiError && err.status === 401) {
      this.set({ error: 'Please sign in again to sync.', problem: 'signed-out' });
      return 'signed-out';
    }
    this.set({ error: `Sync failed: ${err.message}`, problem: 'failed' });
    if (!(err instanceof ApiError)) console.error(err);
    return 'error';
  }

  /** Sync after a short pause (coalesces bursts of edits). */
  soon(delay = this.debounceMs) {
    clearTimeout(this.soonTimer);
    this.soonTimer = setTimeout(() => this.syncNow(), delay);
  }

  /** Start automatic syncing: now, when back online, on a timer, after edits. */
  async start() {
    this.stop();
    this.set({ lastSyncAt: await getMeta('last_sync_at', null), updateRequired: (await getMeta('update_required', null)) === BUILD_ID });
    const online = () => {
      this.set({ online: true });
      this.syncNow();
    };
    const offline = () => this.set({ online: false });
    if (globalThis.addEventListener) {
      globalThis.addEventListener('online', online);
      globalThis.addEventListener('offline', offline);
      this.cleanups.push(() => {
        globalThis.removeEventListener('online', online);
        globalThis.removeEventListener('offline', offline);
      });
    }
    this.cleanups.push(onQueued(() => this.soon()));
    this.timers.push(setInterval(() => this.syncNow(), this.intervalMs));
    return this.syncNow();
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.soonTimer);
    for (const cleanup of this.cleanups) cleanup();
    this.timers = [];
    this.cleanups = [];
  }
}

export const syncEngine = new SyncEngine();
