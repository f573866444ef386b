/**
 * autolock.js: lock after the idle time of the lock policy (staff 5 minutes by default)
 * and when the app was hidden (tablet asleep, another app in front) for longer than
 * its hidden limit. Timers in a hidden page are throttled, so a return to the page
 * checks the elapsed time itself.
 */
import { policy } from './vault.js';

const ACTIVITY = ['pointerdown', 'keydown', 'touchstart', 'wheel'];

/** Call `onLock` when the policy says so; returns a function that stops watching. */
export function watchForLock(onLock, { checkEveryMs = 5000, now = () => Date.now() } = {}) {
  let lastActivity = now();
  let hiddenAt = null;
  const touched = () => { lastActivity = now(); };
  const idleTooLong = () => now() - lastActivity >= policy().idle_lock_seconds * 1000;
  const check = () => { if (idleTooLong()) onLock('idle'); };
  const visibility = () => {
    if (document.visibilityState === 'hidden') {
      hiddenAt = now();
    } else if (hiddenAt !== null) {
      const hiddenFor = now() - hiddenAt;
      hiddenAt = null;
      if (hiddenFor >= policy().hidden_lock_seconds * 1000 || idleTooLong()) onLock('hidden');
    }
  };
  for (const name of ACTIVITY) document.addEventListener(name, touched, { passive: true, capture: true });
  document.addEventListener('visibilitychange', visibility);
  const timer = setInterval(check, checkEveryMs);
  return () => {
    clearInterval(timer);
    for (const name of ACTIVITY) document.removeEventListener(name, touched, { capture: true });
    document.removeEventListener('visibilitychange', visibility);
  };
}
