// Every test gets a fresh, empty IndexedDB (fake-indexeddb) and the real Dexie code.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach } from 'vitest';
import { db } from '../src/lib/db.js';

beforeEach(async () => {
  await db.open();
  await Promise.all(db.tables.map((table) => table.clear()));
});

afterEach(() => {
  db.close();
});
