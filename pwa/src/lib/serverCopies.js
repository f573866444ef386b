/**
 * serverCopies.js: storing what the server says a record is, and what a conflicting
 * push did to it.
 *
 * A server copy (a pulled change, or a record read from the server, in the same wire
 * form) becomes the record's `base` unless the device already holds a newer one; the
 * device's own pending and acknowledged edits stay on top. A push answered `conflict`
 * applied every field but the conflicting ones, which kept the server's value; the
 * conflict records say which and what, so the device can show both at once instead of
 * waiting for the pull.
 */
import { db, ackedAfter, materialise, pendingForMany, recordKey } from './db.js';
import { api, ApiError, NetworkError } from './api.js';
import { sealAhead, stillSealedAhead } from './crypto-store.js';

const baseOf = (change) => ({
  version: change.version,
  deleted: Boolean(change.deleted),
  updated_at: change.updated_at ?? null,
  data: change.data || {},
});

/**
 * The stored form each change takes when the device holds no copy of that record and
 * no edit of it (nearly every record of a first sync), sealed ahead — outside any
 * transaction, so it can run while the previous page commits. Aligned with `changes`
 * (null for a tombstone). storeServerCopies uses an entry only where that assumption
 * holds and the key it was sealed under is still set (not locked or unlocked again
 * since); anywhere else it builds the record from what it reads, as ever.
 */
export async function sealedAhead(changes) {
  const records = changes.map((change) => materialise(change.entity, change.id, baseOf(change), [], []));
  return sealAhead('records', records);
}

/**
 * Store server copies of records (a pulled page's changes, or records read from the
 * server) under their pending and acknowledged edits, with bulk reads and writes: one
 * bulkGet of the held copies, one outbox query, one bulkPut and one bulkDelete however
 * many records. A copy older than the one held is skipped; when a record comes twice,
 * the later copy is judged against the earlier. Call inside a transaction on
 * records/outbox (a pulled page: sync.js's applyPullPage, one transaction per page).
 * `ahead`: what sealedAhead(changes) gave, or nothing.
 */
export async function storeServerCopies(changes, ahead = []) {
  if (changes.length === 0) return;
  const keys = changes.map((change) => [change.entity, change.id]);
  const held = await db.records.bulkGet(keys);
  const pending = await pendingForMany(keys);
  // recordKey → {key, record: the local view, or null to remove, put: what to write}
  const outcome = new Map();
  changes.forEach((change, i) => {
    const key = recordKey(change.entity, change.id);
    const local = outcome.has(key) ? outcome.get(key).record : held[i];
    if (local && local.base && local.base.version > change.version) return; // older than what we hold
    const edits = pending.get(key) || [];
    if (!local && edits.length === 0 && ahead[i] && stillSealedAhead(ahead[i])) {
      // Only a later copy of this record in the same page reads `record`: its version and acked.
      outcome.set(key, { key: keys[i], record: { base: { version: change.version }, acked: [] }, put: ahead[i] });
      return;
    }
    const acked = ackedAfter(local ? local.acked : [], change.version);
    const record = materialise(change.entity, change.id, baseOf(change), edits, acked);
    outcome.set(key, { key: keys[i], record, put: record });
  });
  const puts = [];
  const drops = [];
  for (const { key, put } of outcome.values()) {
    if (put) puts.push(put);
    else drops.push(key);
  }
  if (puts.length) await db.records.bulkPut(puts);
  if (drops.length) await db.records.bulkDelete(drops);
}

/** Store one server copy (see storeServerCopies). Call inside a transaction on records/outbox. */
export const storeServerCopy = (change) => storeServerCopies([change]);

/**
 * The device's own view of a mutation that met a conflict: what the server applied
 * (its fields but the conflicting ones) and the server's value of those, at the
 * result's version. Null when that is not known: a record-level conflict, or the
 * conflict records could not be fetched.
 */
export function conflictOutcome(entry, result, conflicts) {
  const found = (result.conflict_ids || []).map((id) => conflicts.get(id));
  if (!found.length || !found.every(Boolean) || typeof result.version !== 'number') return null;
  if (found.some((c) => c.data.field === '_record')) return null;
  const serverValues = Object.fromEntries(found.map((c) => [c.data.field, c.data.server_value]));
  return { mutation_id: entry.mutation_id, op: 'update', fields: { ...entry.fields, ...serverValues }, version: result.version };
}

/**
 * The conflict records a push answer names, by id, fetched from the server (GET
 * /conflicts?record_id=…). Best effort: what cannot be fetched arrives with the pull.
 */
export async function fetchConflicts(batch, response) {
  const byId = new Map(batch.map((entry) => [entry.mutation_id, entry]));
  const recordIds = new Set();
  for (const result of response.results || []) {
    const entry = byId.get(result.mutation_id);
    if (entry && result.status === 'conflict' && (result.conflict_ids || []).length) recordIds.add(entry.id);
  }
  const conflicts = new Map();
  for (const recordId of recordIds) {
    try {
      const page = await api(`/conflicts?${new URLSearchParams({ record_id: recordId, limit: '500' })}`);
      for (const item of page.items || []) conflicts.set(item.id, item);
    } catch (err) {
      if (!(err instanceof ApiError) && !(err instanceof NetworkError)) throw err;
    }
  }
  return conflicts;
}

