/**
 * Web Push opt-in (SPEC §6): ask permission, subscribe with the server's VAPID public
 * key, register the subscription with the server; and the reverse.
 */
import { api } from './api.js';
import { getMeta, setMeta, deleteMeta } from './db.js';

export function pushSupported() {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

export function permission() {
  return pushSupported() ? Notification.permission : 'unsupported';
}

export function urlBase64ToUint8Array(base64) {
  const padding = '='.repeat((4 - (base64.length % 4)) % 4);
  const raw = atob((base64 + padding).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** The active subscription as stored, or null. */
export async function currentSubscription() {
  return getMeta('push_subscription', null);
}

export async function enableNotifications() {
  if (!pushSupported()) throw new Error('This browser cannot show notifications from Doorstep.');
  const granted = await Notification.requestPermission();
  if (granted !== 'granted') throw new Error('Notifications are turned off in this browser. You can turn them on in the browser’s settings.');
  const registration = await navigator.serviceWorker.ready;
  const { public_key: publicKey, key } = await api('/push/vapid-public-key');
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(publicKey || key) });
  }
  const json = subscription.toJSON();
  const saved = await api('/push/subscriptions', { method: 'POST', body: { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } } });
  const stored = { id: saved && saved.id, endpoint: json.endpoint };
  await setMeta('push_subscription', stored);
  return stored;
}

export async function disableNotifications() {
  const stored = await currentSubscription();
  if (stored && stored.id) await api(`/push/subscriptions/${encodeURIComponent(stored.id)}`, { method: 'DELETE' });
  if (pushSupported()) {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();
  }
  await deleteMeta('push_subscription');
}

export function sendTestNotification() {
  return api('/push/test', { method: 'POST' });
}
