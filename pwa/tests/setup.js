// Every test gets a fresh, empty IndexedDB (fake-indexeddb) and the real Dexie code, with
// the test person's store (nina's) opened by a real sign-in's key step, so every value is
// sealed as on a device (crypto-store.js) and tests read and write through the codec.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach } from 'vitest';
import { db } from '../src/lib/db.js';
import { setShownUser } from '../src/lib/tabs.js';
import { configureApi } from '../src/lib/api.js';
import { openStoreFor, unlockAfterSignIn } from '../src/lib/vault.js';
import { FakeServer, NINA } from './fake-server.js';

beforeEach(async () => {
  setShownUser(undefined); // no tab has read the session: tests drive the library directly
  await openStoreFor('nina');
  await db.open();
  await Promise.all(db.tables.map((table) => table.clear()));
  configureApi({ fetch: new FakeServer().fetch });
  await unlockAfterSignIn({ user: NINA, client_id: 'c-1', access_token: 'setup' });
});

afterEach(() => {
  db.close();
});
