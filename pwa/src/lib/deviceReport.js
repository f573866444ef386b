/**
 * Tells the server what this device has not sent yet (count of outbox entries and the
 * time of the oldest), after every sync run: a co-ordinator sees it on the Devices screen
 * before revoking the device, which would wipe those changes.
 */
import { db } from './db.js';
import { api } from './api.js';
import { syncEngine } from './sync.js';

export async function waitingChanges() {
  const [waiting, oldest] = await Promise.all([db.outbox.count(), db.outbox.orderBy('mutation_id').first()]);
  return { waiting, oldest_at: oldest ? oldest.client_time : null };
}

export async function reportWaitingChanges() {
  try {
    await api('/devices/current/waiting', { method: 'PUT', body: await waitingChanges() });
  } catch {
    // Offline or signed out: the next sync reports again; this is advice, not data.
  }
}

/** Report when each sync run ends while online; returns the unsubscribe. */
export function reportAfterEachSync() {
  let wasRunning = false;
  return syncEngine.subscribe((state) => {
    if (wasRunning && !state.running && state.online && !state.updateRequired) reportWaitingChanges();
    wasRunning = state.running;
  });
}
