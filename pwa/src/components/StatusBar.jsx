/**
 * The sync status, kept in view (sticky) on long forms: online or offline (icon and
 * words), changes waiting to sync, changes that could not be sent, open conflicts (staff
 * only: patients and carers never have to think about them), last sync, first-download
 * progress and a "Sync now" button. One line on a tablet; on a phone the longer words
 * are visually hidden but still read out. Patients and carers get the same facts in
 * everyday words (docs/pwa.md, "Words for patients and carers"): nothing about syncing.
 */
import { useFirstSync, useLive, useSyncState, useTicker } from '../lib/hooks.js';
import { syncCounts } from '../lib/queries.js';
import { syncEngine } from '../lib/sync.js';
import { formatRelative } from '../lib/format.js';
import { Icon } from './Page.jsx';

const plural = (n, one, many) => (n === 1 ? one : many);

/** What went wrong with the last sync, for a patient or carer. */
const PERSON_PROBLEMS = {
  'signed-out': 'Please sign in again so that what you save can be sent.',
  failed: 'Your care team’s service could not be reached just now. The app will try again.',
};

/** The sync state's problem as a sentence: staff see the engine's, patients and carers everyday words. */
export function problemWords(state, staff) {
  return staff ? state.error : (state.problem && PERSON_PROBLEMS[state.problem]) || null;
}

/** How many saved changes are still on this device only, in everyday words. */
function PersonWaiting({ waiting }) {
  if (!waiting) return <span>All sent</span>;
  return <span><strong>{waiting}</strong>&nbsp;<span class="status__more">{plural(waiting, 'thing', 'things')} </span>not sent yet</span>;
}

export function StatusBar({ user }) {
  useTicker(30_000);
  const state = useSyncState();
  const firstSync = useFirstSync();
  const counts = useLive(syncCounts, [], { waiting: 0, rejected: 0, conflicts: 0 });
  const staff = !user || !['patient', 'carer'].includes(user.role);
  const online = state.online;
  const message = firstSync.sentence || problemWords(state, staff) || '';
  return (
    <div class="statusbar" role="region" aria-label={staff ? 'Sync status' : 'Connection'}>
      <span class={online ? 'status status--online' : 'status status--offline'}>
        <Icon name={online ? 'online' : 'offline'} />
        {online ? 'Online' : 'Offline'}
      </span>
      <span class="status">
        {staff
          ? <span><strong>{counts.waiting}</strong>&nbsp;<span class="status__more">{plural(counts.waiting, 'change', 'changes')} </span>waiting<span class="status__more"> to sync</span></span>
          : <PersonWaiting waiting={counts.waiting} />}
      </span>
      {counts.rejected ? (
        <a class="status status--warn" href="/sync">
          <Icon name="warning" />
          {staff
            ? `${counts.rejected} need${plural(counts.rejected, 's', '')} correction`
            : `${counts.rejected} ${plural(counts.rejected, 'thing', 'things')} could not be sent. Your care team can help.`}
        </a>
      ) : null}
      {staff ? (
        <a class={counts.conflicts ? 'status status--warn' : 'status'} href="/conflicts">
          <Icon name="conflict" />
          <span>{counts.conflicts} <span class="status__more">open </span>conflict{plural(counts.conflicts, '', 's')}</span>
        </a>
      ) : null}
      <span class="status status__when">
        {staff || state.lastSyncAt
          ? <><span class="status__more">{staff ? 'Last sync: ' : 'Updated '}</span>{formatRelative(state.lastSyncAt)}</>
          : <span class="status__more">Not updated yet</span>}
      </span>
      <button id="sync-now" type="button" class="button button--small" onClick={() => syncEngine.syncNow()} disabled={state.running}
        aria-describedby={state.updateRequired ? 'update-required' : undefined}>
        <Icon name="sync" />
        <span class="status__more">{staff ? (state.running ? 'Syncing…' : 'Sync now') : (state.running ? 'Updating…' : 'Update now')}</span>
      </button>
      <span class={message ? 'status status--block' : 'visually-hidden'} aria-live="polite">{message}</span>
      {state.updateRequired ? (
        <p id="update-required" class="status status--warn status--block" role="alert">
          {staff ? 'This version of the app is out of date and cannot sync. ' : 'This app needs an update before it can send what you save. '}
          <button type="button" class="linkbutton" onClick={() => location.reload()}>Reload to update</button>.
          {staff ? ' Your changes stay on this device.' : ' Everything you saved stays on this device.'}
        </p>
      ) : null}
    </div>
  );
}
