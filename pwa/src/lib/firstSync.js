/**
 * Honest sync state for screens: has this device downloaded everything the person may
 * see at least once? Until then an empty list means "not here yet", not "none".
 *
 * Complete = the last page of a pull that started without a cursor arrived
 * (`FIRST_SYNC_COMPLETE`, set by sync.js) and the cursor is still held (sign-out, a new
 * device identity and a server reset drop the cursor, so a re-download never looks done).
 */
import { db, getMeta } from './db.js';
import { api } from './api.js';
import { FIRST_SYNC_COMPLETE } from './sync.js';

export async function firstSyncFacts() {
  const [complete, cursor, have, user] = await Promise.all([
    getMeta(FIRST_SYNC_COMPLETE, false), getMeta('cursor', null), db.records.count(), getMeta('user', null),
  ]);
  return { complete: Boolean(complete && cursor), have, role: user ? user.role : null };
}

let total = null;
let asking = null;

/** About how many records the download brings (asked once per page load, when needed). */
export function downloadSize(onKnown) {
  if (total !== null) return total;
  if (!asking) {
    asking = api('/devices/current/download-size')
      .then((body) => { total = body.records; })
      .catch(() => {})
      .finally(() => { asking = null; });
  }
  asking.then(() => onKnown(total));
  return null;
}

const number = (n) => n.toLocaleString('en-GB');

/** The sentence screens and the status bar show while the first download is not done. */
export function firstSyncSentence({ have, role, running, online, total: of }) {
  const person = role === 'patient' || role === 'carer';
  const what = person ? 'Getting your information' : 'Downloading your caseload';
  const count = of ? `${number(Math.min(have, of))} of ${number(Math.max(have, of))}` : `${number(have)} so far`;
  if (running) return `${what}: ${count}`;
  if (online && have === 0) return `${what}: starting…`;
  if (!online) return `${what} has paused: ${count}. It carries on when you are back online.`;
  return `${what} has not finished: ${count}. It carries on ${person ? 'by itself soon' : 'at the next sync'}.`;
}
