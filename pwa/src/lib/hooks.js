/** Preact hooks over the local database and the sync engine. */
import { useEffect, useState } from 'preact/hooks';
import { liveQuery } from 'dexie';
import { syncEngine } from './sync.js';

/** Re-render whenever the IndexedDB data the query reads changes. */
export function useLive(query, deps = [], initial = undefined) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({
      next: setValue,
      error: (err) => console.error('live query failed', err),
    });
    return () => subscription.unsubscribe();
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
