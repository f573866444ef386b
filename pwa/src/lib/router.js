/**
 * Path routing with the History API (the server answers index.html for app paths).
 * Routes are matched in order by `matchRoute`; `:name` segments become params.
 */
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();

function currentPath() {
  return globalThis.location ? location.pathname + location.search : '/';
}

export function navigate(path, { replace = false } = {}) {
  if (path === currentPath()) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  for (const listener of listeners) listener(currentPath());
}

export function usePath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** Match "/patients/:id" against a path; returns params or null. */
export function matchRoute(pattern, path) {
  const [pathname] = path.split('?');
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return params;
}

export function queryParam(name) {
  return new URLSearchParams(globalThis.location ? location.search : '').get(name);
}

/** Same-origin links navigate without reloading; modified clicks behave as usual. */
export function onLinkClick(event) {
  const anchor = event.target.closest && event.target.closest('a[href]');
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
