/**
 * The always-visible sync status: online or offline (icon and words), changes waiting
 * to sync, changes needing correction, open conflicts, last sync time, first-sync
 * progress and a "Sync now" button.
 */
import { useLive, useSyncState, useTicker } from '../lib/hooks.js';
import { syncCounts } from '../lib/queries.js';
import { syncEngine } from '../lib/sync.js';
import { formatRelative } from '../lib/format.js';
import { Icon } from './Page.jsx';

export function StatusBar() {
  useTicker(30_000);
  const state = useSyncState();
  const counts = useLive(syncCounts, [], { waiting: 0, rejected: 0, conflicts: 0 });
  const online = state.online;
  return (
    <div class="statusbar" role="region" aria-label="Sync status">
      <span class={online ? 'status status--online' : 'status status--offline'}>
        <Icon name={online ? 'online' : 'offline'} />
        {online ? 'Online' : 'Offline'}
      </span>
      <span class="status">
        <strong>{counts.waiting}</strong>&nbsp;{counts.waiting === 1 ? 'change' : 'changes'} waiting to sync
      </span>
      {counts.rejected ? (
        <a class="status status--warn" href="/sync">
          <Icon name="warning" />
          {counts.rejected} need{counts.rejected === 1 ? 's' : ''} correction
        </a>
      ) : null}
      <a class={counts.conflicts ? 'status status--warn' : 'status'} href="/conflicts">
        <Icon name="conflict" />
        {counts.conflicts} open conflict{counts.conflicts === 1 ? '' : 's'}
      </a>
      <span class="status">Last sync: {formatRelative(state.lastSyncAt)}</span>
      <span class="status" aria-live="polite">
        {state.running && state.progress
          ? `Downloading: ${state.progress.received.toLocaleString('en-GB')} records received${state.progress.hasMore ? ', more to come…' : ''}`
          : state.running ? 'Syncing…' : state.error || ''}
      </span>
      <button id="sync-now" type="button" class="button button--small" onClick={() => syncEngine.syncNow()} disabled={state.running}
        aria-describedby={state.updateRequired ? 'update-required' : undefined}>
        <Icon name="sync" />
        {state.running ? 'Syncing…' : 'Sync now'}
      </button>
      {state.updateRequired ? (
        <p id="update-required" class="status status--warn status--block" role="alert">
          This version of the app is out of date and cannot sync. <button type="button" class="linkbutton" onClick={() => location.reload()}>Reload to update</button>. Your changes stay on this device.
        </p>
      ) : null}
    </div>
  );
}
