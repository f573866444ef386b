/**
 * The app: session state, the always-visible header (status bar and navigation) and
 * path routes per role. Sync starts when someone is signed in and stops on sign-out.
 */
import { useEffect, useState } from 'preact/hooks';
import { StatusBar } from './components/StatusBar.jsx';
import { Page, Notice } from './components/Page.jsx';
import { usePath, matchRoute, navigate, onLinkClick } from './lib/router.js';
import { sessionForThisTab } from './lib/session.js';
import { onSessionAnnounced, shownUser } from './lib/tabs.js';
import { syncEngine } from './lib/sync.js';
import { on } from './lib/events.js';
import { ROUTES, NAV, HOME } from './routes.js';
import { Login } from './screens/Login.jsx';
import { Enrol } from './screens/Enrol.jsx';
import { Report } from './screens/me/Report.jsx';
import { reportAfterEachSync } from './lib/deviceReport.js';

const PUBLIC = { '/login': Login, '/enrol': Enrol };

function Header({ user }) {
  const path = usePath();
  const links = user ? NAV[user.role] || [] : [];
  return (
    <header class="header">
      <div class="header__bar">
        <a class="header__brand" href="/">Doorstep</a>
        {user ? <span class="header__user">{user.display_name}</span> : null}
      </div>
      {links.length ? (
        <nav class="nav" aria-label="Main">
          <ul>
            {links.map(([href, text, extra]) => (
              <li key={href}>
                <a href={href} class={extra === 'fall' ? 'nav__link nav__link--fall' : 'nav__link'} aria-current={path.split('?')[0] === href ? 'page' : undefined}>{text}</a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
    </header>
  );
}

function resolve(path, user) {
  for (const [pattern, Screen, roles, extra] of ROUTES) {
    const params = matchRoute(pattern, path);
    if (params && (!roles || roles.includes(user.role))) return { Screen, params, extra };
  }
  return null;
}

export function App() {
  const [user, setUser] = useState(undefined); // undefined while loading, null when signed out
  const [reason, setReason] = useState(null);
  const [switched, setSwitched] = useState(false); // someone else signed in, in another tab
  const path = usePath();
  useEffect(() => setSwitched(false), [path]);

  useEffect(() => {
    sessionForThisTab().then((u) => setUser(u || null));
    const offRevoked = on('revoked', () => { setReason('revoked'); setUser(null); });
    const offExpired = on('session-expired', () => { setReason('expired'); setUser(null); });
    // Tabs agree on who is signed in: another tab signed in or out, or this tab tried to
    // save into a session that is no longer the one it shows.
    const follow = async (why) => {
      const before = shownUser();
      const u = await sessionForThisTab();
      if (before && u && before !== u.id) setSwitched(true);
      setReason(u ? null : why);
      setUser(u || null);
    };
    const offOtherTab = onSessionAnnounced((message) => follow(message.reason || 'other-tab'));
    const offChanged = on('session-changed', () => follow('other-tab'));
    document.addEventListener('click', onLinkClick);
    return () => { offRevoked(); offExpired(); offOtherTab(); offChanged(); document.removeEventListener('click', onLinkClick); };
  }, []);

  useEffect(() => {
    if (!user) return undefined;
    syncEngine.start();
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    const stopReporting = reportAfterEachSync();
    return () => { stopReporting(); syncEngine.stop(); };
  }, [user && user.id]);

  if (user === undefined) return <main id="main" class="main"><p class="page">Loading…</p></main>;

  const pathname = path.split('?')[0];
  let content;
  if (pathname === '/fall') {
    content = <Report user={user} kind="fall" />; // reachable signed out too: the 999 advice needs nothing
  } else if (!user) {
    const Screen = PUBLIC[pathname] || Login;
    if (!PUBLIC[pathname]) queueMicrotask(() => navigate('/login', { replace: true }));
    content = <Screen reason={reason} onSignedIn={(u) => { setReason(null); setUser(u); navigate(HOME[u.role] || '/', { replace: true }); }} />;
  } else if (pathname === '/' || PUBLIC[pathname]) {
    queueMicrotask(() => navigate(HOME[user.role] || '/account', { replace: true }));
    content = null;
  } else {
    const found = resolve(pathname, user);
    content = found
      ? <found.Screen {...found.params} {...(found.extra || {})} user={user} onSignedOut={() => { setUser(null); navigate('/login', { replace: true }); }} />
      : <Page title="Page not found"><p>There is nothing at this address. <a href="/">Go to the start</a>.</p></Page>;
  }
  const large = user && ['patient', 'carer'].includes(user.role);
  return (
    <>
      <Header user={user} />
      {user ? <StatusBar user={user} /> : null}
      <main id="main" class={large ? 'main main--large' : 'main'}>
        {switched ? <Notice kind="warning">Someone else signed in on this device in another tab, so this tab now shows their work. Anything you had not saved here was not kept.</Notice> : null}
        {content}
      </main>
    </>
  );
}
