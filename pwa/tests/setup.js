// Every test gets a fresh, empty IndexedDB (fake-indexeddb) and the real Dexie code.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach } from 'vitest';
import { db } from '../src/lib/db.js';
import { setShownUser } from '../src/lib/tabs.js';

beforeEach(async () => {
  setShownUser(undefined); // no tab has read the session: tests drive the library directly
  await db.open();
  await Promise.all(db.tables.map((table) => table.clear()));
});

afterEach(() => {
  db.close();
});
