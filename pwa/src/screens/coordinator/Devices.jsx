/**
 * Coordinator (and everyone for their own): devices, and revoking a lost one. Online only.
 * Each device's last report of changes it has not sent is shown, and revoking one that
 * has some says how many will be lost and asks again.
 */
import { useEffect, useState } from 'preact/hooks';
import { Page, Empty, Notice } from '../../components/Page.jsx';
import { api, ApiError, NetworkError } from '../../lib/api.js';
import { getMeta } from '../../lib/db.js';
import { formatDateTime, formatRelative } from '../../lib/format.js';

const changes = (n) => `${n} change${n === 1 ? '' : 's'}`;

/** What the device last said it has not sent yet, in words. */
export function describeWaiting(device) {
  if (!device.waiting_reported_at) return 'Not reported yet';
  if (!device.waiting_changes) return `Nothing waiting (${formatRelative(device.waiting_reported_at)})`;
  const oldest = device.oldest_waiting_at ? `, oldest from ${formatDateTime(device.oldest_waiting_at)}` : '';
  return `${changes(device.waiting_changes)} not yet sent${oldest} (reported ${formatRelative(device.waiting_reported_at)})`;
}

function RevokeQuestion({ device, onConfirm, onCancel }) {
  const lost = device.waiting_changes || 0;
  return (
    <div class="confirm" role="group" aria-label={`Revoke ${device.name}?`}>
      <p>
        {lost
          ? <strong>{device.name} has {changes(lost)} not yet sent. Revoking it wipes them: they are lost unless it syncs first.</strong>
          : device.waiting_reported_at ? `${device.name} reported no unsent changes.` : `${device.name} has not reported its unsent changes: any it has would be lost.`}
      </p>
      <span class="actions">
        <button type="button" class="button button--warning" onClick={onConfirm}>{lost ? `Revoke and lose ${changes(lost)}` : `Confirm revoke ${device.name}`}</button>
        <button type="button" class="button button--secondary" onClick={onCancel}>Cancel</button>
      </span>
    </div>
  );
}

export function Devices() {
  const [devices, setDevices] = useState(null);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [confirming, setConfirming] = useState(null);
  const [thisDevice, setThisDevice] = useState(null);
  const load = async () => {
    setError('');
    try {
      setDevices(await api('/devices'));
    } catch (err) {
      if (err instanceof NetworkError) setError('You are offline. The device list needs a connection.');
      else if (err instanceof ApiError) setError(err.message);
      else throw err;
    }
  };
  useEffect(() => { load(); getMeta('client_id').then(setThisDevice); }, []);
  const revoke = async (device) => {
    try {
      await api(`/devices/${encodeURIComponent(device.client_id)}/revoke`, { method: 'POST', body: { reason: 'Revoked by coordinator' } });
      setMessage(`${device.name} (${device.username}) revoked. Its data is wiped the next time it connects.`);
      setConfirming(null);
      await load();
    } catch (err) {
      setError(err instanceof NetworkError ? 'You are offline: the device was not revoked.' : err.message);
    }
  };
  return (
    <Page title="Devices" lead="Revoke a lost or stolen device: it is signed out and its local data is wiped when it next connects.">
      <Notice kind="error">{error}</Notice>
      <Notice kind="success">{message}</Notice>
      {devices && devices.length === 0 ? <Empty local={false}>No devices.</Empty> : null}
      {devices && devices.length ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Devices">
          <table class="table">
            <caption class="visually-hidden">Devices</caption>
            <thead><tr><th scope="col">Device</th><th scope="col">User</th><th scope="col">Last seen</th><th scope="col">Unsent changes</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.client_id}>
                  <td>{d.name}{d.client_id === thisDevice ? ' (this device)' : ''}</td>
                  <td>{d.username}</td>
                  <td>{d.last_seen_at ? formatDateTime(d.last_seen_at) : '—'}</td>
                  <td class={d.waiting_changes && !d.revoked_at ? 'cell--warn' : undefined}>{d.revoked_at ? '—' : describeWaiting(d)}</td>
                  <td>{d.revoked_at ? `Revoked ${formatDateTime(d.revoked_at)}` : 'Active'}</td>
                  <td>
                    {d.revoked_at ? null : confirming === d.client_id ? (
                      <RevokeQuestion device={d} onConfirm={() => revoke(d)} onCancel={() => setConfirming(null)} />
                    ) : (
                      <button type="button" class="button button--secondary" onClick={() => setConfirming(d.client_id)}>Revoke {d.name}</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <button type="button" class="button button--secondary" onClick={load}>Refresh list</button>
    </Page>
  );
}
