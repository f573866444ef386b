/** Preact hooks over the local database and the sync engine. */
import { useEffect, useState } from 'preact/hooks';
import Dexie from 'dexie';
import { syncEngine } from './sync.js';
import { firstSyncFacts, downloadSize, firstSyncSentence } from './firstSync.js';

/*
 * Why not Dexie's liveQuery: it re-runs a query only when a write touches a range the
 * query was *seen* reading, and it sees reads only inside its async zone. A screen's
 * query that awaits a nested async helper (MyGoals: load → myPatients → all → toArray)
 * leaves that zone, so its later reads (the goal logs) were never observed and the
 * person's own "Done today" did not show until they navigated away. Instead every
 * mounted query re-runs after any committed write to the device's database — this
 * tab's or another tab's (Dexie's `storagemutated` covers both) — which needs no rules
 * about how a query is written.
 */
const changeListeners = new Set();
Dexie.on('storagemutated', () => {
  for (const listener of [...changeListeners]) listener();
});

/** Call `listener` after every committed write to the local database; returns an unsubscribe. */
export function onDatabaseChange(listener) {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

/** How often screens re-read the records while a download from scratch stores its pages. */
export const DOWNLOAD_REFRESH_MS = 1000;

/** A download from scratch is storing pages (sync.js's pull, `full`). */
const downloading = (state) => state.running && Boolean(state.progress && state.progress.full);

/**
 * The value of an async query over the local database, kept current: run now, and again
 * after every write (a write during a run runs it once more when that run ends). During
 * a download from scratch it re-runs at most every DOWNLOAD_REFRESH_MS, and once when the
 * download ends: re-reading every stored record after each of a first sync's pages costs
 * more than storing them. `eager` queries (cheap counts: the download's progress) still
 * re-run after every write.
 */
export function useLive(query, deps = [], initial = undefined, { eager = false } = {}) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    let mounted = true;
    let running = false;
    let again = false;
    let deferred = null;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const result = await query();
          if (mounted) setValue(() => result);
        } while (again && mounted);
      } catch (err) {
        console.error('live query failed', err);
      } finally {
        running = false;
      }
    };
    const flush = () => {
      clearTimeout(deferred);
      deferred = null;
      run();
    };
    const changed = () => {
      if (eager || !downloading(syncEngine.state)) flush();
      else if (!deferred) deferred = setTimeout(flush, DOWNLOAD_REFRESH_MS);
    };
    run();
    const unsubscribe = onDatabaseChange(changed);
    const unfollow = eager ? () => {} : syncEngine.subscribe((state) => {
      if (deferred && !downloading(state)) flush(); // the download ended (or failed): show it all now
    });
    return () => {
      mounted = false;
      clearTimeout(deferred);
      unsubscribe();
      unfollow();
    };
  }, deps);
  return value;
}

export function useSyncState() {
  const [state, setState] = useState(syncEngine.state);
  useEffect(() => syncEngine.subscribe(setState), []);
  return state;
}

/** Re-render every `ms` (relative times such as "2 minutes ago"). */
export function useTicker(ms = 30_000) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/**
 * Whether the first download is done, and if not the sentence to show instead of an
 * empty state ("Downloading your caseload: 1,200 of 3,937"). `known` is false until
 * the device has been asked (render nothing then, rather than a wrong "none").
 */
export function useFirstSync() {
  const facts = useLive(firstSyncFacts, [], null, { eager: true }); // the progress count: per page
  const sync = useSyncState();
  const [total, setTotal] = useState(null);
  const incomplete = facts !== null && !facts.complete;
  // Asked on each screen until known, whatever the last sync said: a failed pull page
  // (or a question asked while the store was still locked) must not leave "N so far".
  useEffect(() => {
    if (incomplete && total === null) setTotal(downloadSize(setTotal));
  }, [incomplete, total]);
  if (facts === null) return { known: false, complete: false, sentence: '' };
  return {
    known: true,
    complete: facts.complete,
    sentence: facts.complete ? '' : firstSyncSentence({ ...facts, running: sync.running, online: sync.online, total }),
  };
}
