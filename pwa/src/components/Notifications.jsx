/** Notification opt-in: turn on, turn off, send a test. */
import { useEffect, useState } from 'preact/hooks';
import { Notice } from './Page.jsx';
import { pushSupported, permission, currentSubscription, enableNotifications, disableNotifications, sendTestNotification } from '../lib/push.js';
import { NetworkError } from '../lib/api.js';

export function Notifications() {
  const [subscribed, setSubscribed] = useState(null);
  const [message, setMessage] = useState({ kind: 'info', text: '' });
  const [busy, setBusy] = useState(false);
  useEffect(() => { currentSubscription().then((s) => setSubscribed(Boolean(s))); }, []);
  const run = (action, done) => async () => {
    setBusy(true);
    setMessage({ kind: 'info', text: '' });
    try {
      await action();
      setMessage({ kind: 'success', text: done });
      setSubscribed(Boolean(await currentSubscription()));
    } catch (err) {
      setMessage({ kind: 'error', text: err instanceof NetworkError ? 'You are offline. Try again when you have a connection.' : err.message });
    } finally {
      setBusy(false);
    }
  };
  if (!pushSupported()) return <p>This browser cannot show notifications from Doorstep. Reminders still appear in the app.</p>;
  return (
    <div class="stack">
      <p>{subscribed ? 'Notifications are on for this device.' : permission() === 'denied' ? 'Notifications are turned off in this browser’s settings. Turn them on there to get reminders.' : 'Notifications are off for this device.'}</p>
      <p class="hint">Notifications never show health details: they say a reminder or message is waiting, and the details open in the app.</p>
      <div class="actions">
        {subscribed
          ? <button type="button" class="button button--secondary" disabled={busy} onClick={run(disableNotifications, 'Notifications turned off.')}>Turn off notifications</button>
          : <button type="button" class="button" disabled={busy} onClick={run(enableNotifications, 'Notifications turned on.')}>Turn on notifications</button>}
        {subscribed ? <button type="button" class="button button--secondary" disabled={busy} onClick={run(sendTestNotification, 'Test notification sent.')}>Send a test notification</button> : null}
      </div>
      <Notice kind={message.kind}>{message.text}</Notice>
    </div>
  );
}
