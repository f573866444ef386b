/**
 * Reads of the local database for screens. Records are returned as stored
 * ({entity, id, data, pending, …}); deleted and voided ones are left out unless asked.
 */
import { db } from './db.js';
import { localDate } from './format.js';

export const visible = (record) => record && !record.deleted;
export const notVoided = (record) => visible(record) && !record.data.entered_in_error;

export async function all(entity) {
  return (await db.records.where('entity').equals(entity).toArray()).filter(visible);
}

export async function ofPatient(entity, patientId) {
  return (await db.records.where('[entity+patient_id]').equals([entity, patientId]).toArray()).filter(visible);
}

export async function one(entity, id) {
  const record = await db.records.get([entity, id]);
  return visible(record) ? record : null;
}

const byDesc = (key) => (a, b) => String(b.data[key] || '').localeCompare(String(a.data[key] || ''));
const byAsc = (key) => (a, b) => String(a.data[key] || '').localeCompare(String(b.data[key] || ''));
export const sortNewest = (records, key) => [...records].sort(byDesc(key));
export const sortOldest = (records, key) => [...records].sort(byAsc(key));

/** The newest not-voided record per patient, by a date field. */
export async function latestByPatient(entity, dateKey) {
  const latest = new Map();
  for (const record of (await all(entity)).filter(notVoided)) {
    const current = latest.get(record.patient_id);
    if (!current || String(record.data[dateKey] || '') > String(current.data[dateKey] || '')) latest.set(record.patient_id, record);
  }
  return latest;
}

export function isToday(iso, today = localDate()) {
  return Boolean(iso) && localDate(new Date(iso)) === today;
}

export async function openConflictCount() {
  return (await all('conflict')).filter((c) => c.data.status === 'open').length;
}

/** Counts the status bar shows: queued changes, needing correction, open conflicts. */
export async function syncCounts() {
  const [waiting, rejected, conflicts] = await Promise.all([db.outbox.count(), db.rejected.count(), openConflictCount()]);
  return { waiting, rejected, conflicts };
}
