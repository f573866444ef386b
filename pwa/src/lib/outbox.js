/**
 * outbox.js queues domain mutations (not HTTP requests) for sync.js to push.
 *
 * Invariants:
 *  - mutation ids count up from 1 per client_id with no gaps (`meta.next_mutation_id`);
 *  - the edit to the local record and its outbox entry are one IndexedDB transaction,
 *    so a crash never leaves one without the other;
 *  - base_version is the version of the last *pulled* server copy the edit was made on
 *    (0 before one arrived), never a version from a push result, whose data the device
 *    may not hold. A form passes the version it opened on (editForm.js), which may be
 *    older than the copy now held. Edits are never coalesced: each keeps its own
 *    base_version, and the server never lets a device's earlier mutations conflict
 *    with its later ones;
 *  - every entry belongs to the user who made it (`user_id`, the signed-in user, read in
 *    the same transaction); nothing is queued with nobody signed in, or from a tab that
 *    still shows someone other than the signed-in user (tabs.js).
 */
import { db, getMeta, setMeta, pendingFor, writeMaterialised } from './db.js';
import { shownUser, SessionChanged } from './tabs.js';
import { emit } from './events.js';

const listeners = new Set();

/** Be told after each queued mutation (sync.js uses it to push soon). */
export function onQueued(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function newId() {
  return crypto.randomUUID();
}

/**
 * Queue one mutation and apply it to the local record, atomically.
 * `fields` holds only the changed fields; `baseVersion` the server version the edit was
 * made on (default: the copy held now). Returns the outbox entry.
 */
export async function queueMutation({ entity, id, op, fields = {}, clientTime, baseVersion }) {
  if (!['create', 'update', 'delete'].includes(op)) throw new Error(`unknown op ${op}`);
  let entry;
  try {
    entry = await db.transaction('rw', db.records, db.outbox, db.meta, async () => {
      const user = await getMeta('user', null);
      const shown = shownUser();
      if (!user || (shown !== undefined && shown !== user.id)) throw new SessionChanged();
      const existing = await db.records.get([entity, id]);
      if (op !== 'create' && !existing) throw new Error(`no local ${entity} ${id} to ${op}`);
      const mutationId = await getMeta('next_mutation_id', 1);
      const held = existing?.base ? existing.base.version : 0;
      const queued = {
        mutation_id: mutationId,
        client_id: await getMeta('client_id', null),
        user_id: user.id,
        entity,
        id,
        op,
        // Never a version newer than the copy held: the device has not seen its data.
        base_version: Math.min(baseVersion ?? held, held),
        fields: op === 'delete' ? {} : { ...fields },
        client_time: clientTime || new Date().toISOString(),
      };
      const pending = [...(await pendingFor(entity, id)), queued];
      await writeMaterialised(entity, id, existing?.base ?? null, pending, existing?.acked ?? []);
      await db.outbox.add(queued); // if this fails, the record write above is rolled back
      await setMeta('next_mutation_id', mutationId + 1);
      return queued;
    });
  } catch (err) {
    if (err instanceof SessionChanged) emit('session-changed');
    throw err;
  }
  for (const listener of listeners) listener(entry);
  return entry;
}

/** Create a record with a new client-made UUID; returns the id. */
export async function createRecord(entity, fields) {
  const id = newId();
  await queueMutation({ entity, id, op: 'create', fields });
  return id;
}

export function updateRecord(entity, id, fields, { baseVersion } = {}) {
  return queueMutation({ entity, id, op: 'update', fields, baseVersion });
}

export function deleteRecord(entity, id) {
  return queueMutation({ entity, id, op: 'delete' });
}

/** The mutation as it goes on the wire. */
export function toWire(entry) {
  const { mutation_id, entity, id, op, base_version, fields, client_time } = entry;
  return { mutation_id, entity, id, op, base_version, fields, client_time };
}

/**
 * Give the outbox to a new client_id: renumber it 1, 2, 3 … in its present order
 * (mutation ids are counted per client_id). Used when the server gives this device a
 * new identity at login while unsent changes are waiting.
 */
export async function renumberForClient(clientId) {
  await db.transaction('rw', db.outbox, db.meta, async () => {
    const entries = await db.outbox.orderBy('mutation_id').toArray();
    await db.outbox.clear();
    let next = 1;
    for (const entry of entries) {
      await db.outbox.add({ ...entry, mutation_id: next, client_id: clientId });
      next += 1;
    }
    await setMeta('client_id', clientId);
    await setMeta('next_mutation_id', next);
  });
}

/** Put a rejected mutation back in the queue with corrected fields (a new mutation). */
export async function resendRejected(mutationId, correctedFields) {
  const rejected = await db.rejected.get(mutationId);
  if (!rejected) return null;
  const { entity, id, op } = rejected.mutation;
  const local = await db.records.get([entity, id]);
  // Once the server holds the record, a correction is an update on its current version.
  const onServer = Boolean(local?.base) || Boolean(local?.acked?.length);
  const resendOp = op === 'delete' ? 'delete' : onServer ? 'update' : 'create';
  await db.transaction('rw', db.records, db.outbox, db.meta, db.rejected, async () => {
    await db.rejected.delete(mutationId);
    await queueMutation({ entity, id, op: resendOp, fields: correctedFields });
  });
  return true;
}

/** Discard a rejected change: only ever on the user's explicit, confirmed request. */
export async function discardRejected(mutationId) {
  await db.rejected.delete(mutationId);
}
