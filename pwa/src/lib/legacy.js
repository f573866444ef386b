/**
 * legacy.js: a device that ran a release before encryption at rest holds one plain-text
 * database, `doorstep`. At the first sign-in after the update its unsent changes (outbox
 * and needs-correction list) move into the signing-in person's sealed store, and the
 * plain-text database is deleted with everything else in it (records come back by
 * sync). Changes that belong to someone else stay where they are until that person
 * signs in: never dropped, never sent by another. The waiting outbox keeps its order;
 * login renumbers it for the client_id the server gives (session.js).
 */
import Dexie from 'dexie';
import { db } from './db.js';

const LEGACY = 'doorstep';

/**
 * Adopt the plain-text database's unsent changes if they are `user`'s. Returns how many.
 * Entries from before changes named their author get this user's id (they are theirs:
 * the owner check above), so they are sent for them and never for anyone else.
 */
export async function adoptLegacyStore(user) {
  const { username } = user;
  if (!(await Dexie.exists(LEGACY))) return 0;
  const old = new Dexie(LEGACY); // no schema: Dexie opens it as it is
  let adopted = 0;
  try {
    await old.open();
    const names = old.tables.map((table) => table.name);
    const rows = (name) => (names.includes(name) ? old.table(name).toArray() : []);
    const [meta, outbox, rejected] = await Promise.all([rows('meta'), rows('outbox'), rows('rejected')]);
    const owner = meta.find((row) => row.key === 'owner')?.value;
    if (outbox.length + rejected.length > 0) {
      if (owner && owner.username.toLowerCase() !== username.trim().toLowerCase()) return 0;
      // Mutation ids would collide with the sealed store's own queue: leave both for now.
      if ((await db.outbox.count()) + (await db.rejected.count()) > 0) return 0;
    }
    await db.transaction('rw', db.outbox, db.rejected, db.meta, async () => {
      await db.outbox.bulkPut(outbox.map((entry) => ({ ...entry, user_id: entry.user_id ?? user.id })));
      await db.rejected.bulkPut(rejected.map((item) => (item.mutation
        ? { ...item, mutation: { ...item.mutation, user_id: item.mutation.user_id ?? user.id } }
        : item)));
      for (const row of meta) if (row.key === 'owner') await db.meta.put(row);
    });
    adopted = outbox.length + rejected.length;
  } finally {
    old.close();
  }
  await Dexie.delete(LEGACY);
  return adopted;
}
