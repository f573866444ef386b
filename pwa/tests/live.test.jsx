// @vitest-environment happy-dom
// Screens' live queries during a first sync (issue 13): re-reading every record after
// each stored page cost more than storing it, so while a download from scratch runs a
// query re-runs at most every DOWNLOAD_REFRESH_MS and once when it ends; the progress
// count (an `eager` query) still follows every page; outside a download every write
// re-runs a query at once.
import { afterEach, describe, expect, it } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { setMeta, getMeta } from '../src/lib/db.js';
import { useLive } from '../src/lib/hooks.js';
import { syncEngine } from '../src/lib/sync.js';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function Probe({ runs, eager }) {
  const value = useLive(async () => {
    runs.push(1);
    return getMeta('n', 0);
  }, [], null, { eager });
  return <p>{String(value)}</p>;
}

async function mount(eager) {
  const root = document.createElement('div');
  const runs = [];
  await act(async () => { render(<Probe runs={runs} eager={eager} />, root); });
  await act(() => pause(30));
  return { root, runs };
}

async function writes(from, to) {
  for (let n = from; n <= to; n += 1) {
    await act(async () => { await setMeta('n', n); });
    await act(() => pause(10));
  }
}

afterEach(() => syncEngine.set({ running: false, phase: 'idle', progress: null }));

describe('a live query during a download from scratch', () => {
  it('waits instead of re-running after each page, then shows the end at once', async () => {
    const { root, runs } = await mount(false);
    expect(root.textContent).toBe('0');
    const before = runs.length;
    syncEngine.set({ running: true, phase: 'pulling', progress: { received: 500, hasMore: true, full: true } });
    await writes(1, 4);
    expect(runs.length).toBe(before); // deferred (DOWNLOAD_REFRESH_MS is far longer than this)
    expect(root.textContent).toBe('0');
    await act(async () => { syncEngine.set({ running: false, phase: 'idle', progress: null }); });
    await act(() => pause(30));
    expect(runs.length).toBe(before + 1);
    expect(root.textContent).toBe('4');
    await writes(5, 5); // no download: at once
    expect(root.textContent).toBe('5');
  });

  it('re-runs after every write when eager (the progress count), and outside a download', async () => {
    const { root, runs } = await mount(true);
    const before = runs.length;
    syncEngine.set({ running: true, phase: 'pulling', progress: { received: 500, hasMore: true, full: true } });
    await writes(1, 3);
    expect(runs.length).toBe(before + 3);
    expect(root.textContent).toBe('3');
  });

  it('re-runs at once during an ordinary pull (one with a cursor)', async () => {
    const { root } = await mount(false);
    syncEngine.set({ running: true, phase: 'pulling', progress: { received: 20, hasMore: true, full: false } });
    await writes(1, 2);
    expect(root.textContent).toBe('2');
  });
});
