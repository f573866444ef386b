/**
 * The sync status, kept in view (sticky) on long forms: online or offline (icon and
 * words), changes waiting to sync, changes that could not be sent, open conflicts (staff
 * only: patients and carers never have to think about them), last sync, first-download
 * progress and a "Sync now" button. One line on a tablet; on a phone the longer words
 * are visually hidden but still read out.
 */
import { useFirstSync, useLive, useSyncState, useTicker } from '../lib/hooks.js';
import { syncCounts } from '../lib/queries.js';
import { syncEngine } from '../lib/sync.js';
import { formatRelative } from '../lib/format.js';
import { Icon } from './Page.jsx';

const plural = (n, one, many) => (n === 1 ? one : many);

export function StatusBar({ user }) {
  useTicker(30_000);
  const state = useSyncState();
  const firstSync = useFirstSync();
  const counts = useLive(syncCounts, [], { waiting: 0, rejected: 0, conflicts: 0 });
  const staff = !user || !['patient', 'carer'].includes(user.role);
  const online = state.online;
  const message = firstSync.sentence || state.error || '';
  return (
    <div class="statusbar" role="region" aria-label="Sync status">
      <span class={online ? 'status status--online' : 'status status--offline'}>
        <Icon name={online ? 'online' : 'offline'} />
        {online ? 'Online' : 'Offline'}
      </span>
      <span class="status">
        <span><strong>{counts.waiting}</strong>&nbsp;<span class="status__more">{plural(counts.waiting, 'change', 'changes')} </span>waiting<span class="status__more"> to sync</span></span>
      </span>
      {counts.rejected ? (
        <a class="status status--warn" href="/sync">
          <Icon name="warning" />
          {staff
            ? `${counts.rejected} need${plural(counts.rejected, 's', '')} correction`
            : `${counts.rejected} ${plural(counts.rejected, 'change', 'changes')} could not be sent`}
        </a>
      ) : null}
      {staff ? (
        <a class={counts.conflicts ? 'status status--warn' : 'status'} href="/conflicts">
          <Icon name="conflict" />
          <span>{counts.conflicts} <span class="status__more">open </span>conflict{plural(counts.conflicts, '', 's')}</span>
        </a>
      ) : null}
      <span class="status status__when"><span class="status__more">Last sync: </span>{formatRelative(state.lastSyncAt)}</span>
      <button id="sync-now" type="button" class="button button--small" onClick={() => syncEngine.syncNow()} disabled={state.running}
        aria-describedby={state.updateRequired ? 'update-required' : undefined}>
        <Icon name="sync" />
        <span class="status__more">{state.running ? 'Syncing…' : 'Sync now'}</span>
      </button>
      <span class={message ? 'status status--block' : 'visually-hidden'} aria-live="polite">{message}</span>
      {state.updateRequired ? (
        <p id="update-required" class="status status--warn status--block" role="alert">
          This version of the app is out of date and cannot sync. <button type="button" class="linkbutton" onClick={() => location.reload()}>Reload to update</button>. Your changes stay on this device.
        </p>
      ) : null}
    </div>
  );
}
