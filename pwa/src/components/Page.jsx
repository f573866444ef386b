/**
 * Page: one screen's frame. Moves focus to the heading when a screen opens (screen
 * readers announce it) and sets the document title.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useFirstSync } from '../lib/hooks.js';

export function Page({ title, lead, actions, children, wide = false }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} – Doorstep`;
    if (heading.current && document.activeElement && document.activeElement.id !== 'sync-now') heading.current.focus();
  }, [title]);
  return (
    <div class={wide ? 'page page--wide' : 'page'}>
      <div class="page__head">
        <h1 ref={heading} tabIndex={-1}>{title}</h1>
        {actions ? <div class="page__actions">{actions}</div> : null}
      </div>
      {lead ? <p class="lead">{lead}</p> : null}
      {children}
    </div>
  );
}

export function Section({ title, children, id, level = 2 }) {
  const Heading = `h${level}`;
  const headingId = id ? `${id}-heading` : undefined;
  return (
    <section class="section" aria-labelledby={headingId}>
      <Heading id={headingId}>{title}</Heading>
      {children}
    </section>
  );
}

/**
 * An empty state. Lists of the device's own data (the default) say that the first
 * download is still going instead of "none" until it has finished; pass `local={false}`
 * for lists fetched from the server.
 */
export function Empty({ children, local = true }) {
  const firstSync = useFirstSync();
  if (!local || firstSync.complete) return <p class="empty">{children}</p>;
  if (!firstSync.known) return null;
  return <p class="empty empty--syncing" role="status">{firstSync.sentence}</p>;
}

/** A polite live message: confirmations and results that must be heard. */
export function Notice({ kind = 'info', children }) {
  if (!children) return null;
  const role = kind === 'error' ? 'alert' : 'status';
  const prefix = { error: 'Error: ', success: 'Done: ', warning: 'Warning: ', info: '' }[kind];
  return (
    <div class={`notice notice--${kind}`} role={role}>
      <Icon name={kind} />
      <span>
        <span class="visually-hidden">{prefix}</span>
        {children}
      </span>
    </div>
  );
}

const ICONS = {
  // Simple shapes so meaning never depends on colour alone.
  success: 'M4 12l5 5L20 6',
  error: 'M6 6l12 12M18 6L6 18',
  warning: 'M12 3l10 18H2zM12 10v5M12 18v1',
  info: 'M12 8v1M12 11v6',
  online: 'M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0M12 20h0',
  offline: 'M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M3 3l18 18',
  sync: 'M4 12a8 8 0 0 1 14-5l2 2M20 12a8 8 0 0 1-14 5l-2-2M20 4v5h-5M4 20v-5h5',
  conflict: 'M7 4v16M17 4v16M4 8h6M14 16h6',
  phone: 'M5 3h4l2 5-3 2a11 11 0 0 0 6 6l2-3 5 2v4a2 2 0 0 1-2 2A17 17 0 0 1 3 5a2 2 0 0 1 2-2z',
  check: 'M4 12l5 5L20 6',
};

export function Icon({ name, label }) {
  const d = ICONS[name] || ICONS.info;
  return (
    <svg class={`icon icon--${name}`} viewBox="0 0 24 24" width="20" height="20" aria-hidden={label ? undefined : 'true'} role={label ? 'img' : undefined} aria-label={label} focusable="false">
      {name === 'info' ? <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" /> : null}
      <path d={d} fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
