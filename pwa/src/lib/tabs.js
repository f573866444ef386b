/**
 * tabs.js: every open tab of the app agrees on who is signed in.
 *
 * The session (tokens, user) lives in the one IndexedDB all tabs share, so a sign-in or
 * sign-out in one tab changes it for all. Each tab also remembers whom it is showing
 * (`shownUserId`): a tab that has not caught up yet — its BroadcastChannel message is
 * still on the way, or the browser has none — must not queue an edit into someone
 * else's session (outbox.js refuses it). Sign-in and sign-out are announced on a
 * BroadcastChannel, and each tab then re-reads the session.
 */
const CHANNEL = 'doorstep-session';

/** Nobody, or somebody else than this tab shows, is signed in: the edit was not queued. */
export class SessionChanged extends Error {
  constructor() {
    super('You were signed out, or someone else signed in, in another tab. This change was not saved.');
    this.name = 'SessionChanged';
  }
}

// undefined: this tab has not read the session (tests drive the library without a UI).
let shownUserId;

/** The user this tab shows (null: signed out; undefined: not known). */
export function shownUser() {
  return shownUserId;
}

export function setShownUser(id) {
  shownUserId = id;
}

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;

/** Tell the other tabs the session changed: {type: 'signed-in'|'signed-out', reason?}. */
export function announceSession(message) {
  if (channel) channel.postMessage(message);
}

/** Be told when another tab changed the session. Returns the unsubscribe function. */
export function onSessionAnnounced(listener) {
  if (!channel) return () => {};
  const handler = (event) => listener(event.data || {});
  channel.addEventListener('message', handler);
  return () => channel.removeEventListener('message', handler);
}
