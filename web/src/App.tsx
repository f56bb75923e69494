import { Suspense, lazy, useEffect, useState, type FormEvent } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { ApiError, api, claimsOf, storeToken, storedToken, type Role, type Session } from './api';
import { authorizeUrl, completeSignIn, readConfig, type AppConfig } from './hosted-sign-in';
import { SessionContext, VIEWS, mayOpen } from './session';
import { Overview } from './views/Overview';
import { Alerts } from './views/Alerts';
import { Dashboards, DashboardView } from './views/Dashboards';

// The views a clinic opens less often load when first opened: the overview does not wait for them.
const Explorer = lazy(() => import('./views/Explorer').then((module) => ({ default: module.Explorer })));
const Cohorts = lazy(() => import('./views/Cohorts').then((module) => ({ default: module.Cohorts })));
const Patterns = lazy(() => import('./views/Patterns').then((module) => ({ default: module.Patterns })));
const Predictions = lazy(() => import('./views/Predictions').then((module) => ({ default: module.Predictions })));
const Anomalies = lazy(() => import('./views/Anomalies').then((module) => ({ default: module.Anomalies })));
const Reports = lazy(() => import('./views/Reports').then((module) => ({ default: module.Reports })));
const Privacy = lazy(() => import('./views/Privacy').then((module) => ({ default: module.Privacy })));

/** A route every token of the role may call, read to check the token works before anything is shown. */
const CHECK_ROUTE: Record<Role, string> = { admin: '/v1/audit?limit=1', analyst: '/v1/metrics', clinician: '/v1/alert-rules', ingest: '' };

/**
 * Who the token is: a JWT says (the API checks its signature; the app only decides what to show);
 * the local runtime's opaque development token is an admin's, which the audit trail (admins only) confirms.
 */
async function signIn(token: string): Promise<Session> {
  const claimed = claimsOf(token) ?? { role: 'admin' as const, subject: 'dev' };
  if (claimed.role === 'ingest') throw new ApiError(403, 'forbidden', 'an ingest token sends events; it has nothing to read here');
  await api(token, 'GET', CHECK_ROUTE[claimed.role]);
  return { token, ...claimed };
}

function SignIn({ config, onSession, failure }: { config: AppConfig; onSession: (session: Session) => void; failure?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(failure);
  if (config.auth.kind === 'cognito') {
    const hosted = config.auth;
    return (
      <main className="sign-in">
        <h1>Therapeutic analytics</h1>
        <button type="button" onClick={() => void authorizeUrl(hosted).then((url) => window.location.assign(url))}>
          Sign in
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </main>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    signIn(token.trim())
      .then((session) => {
        storeToken(session.token);
        onSession(session);
      })
      .catch((failure: unknown) => setError(failure instanceof ApiError && failure.status === 401 ? 'That token was not accepted.' : failure instanceof Error ? failure.message : 'Sign-in failed.'));
  };
  return (
    <main className="sign-in">
      <h1>Therapeutic analytics</h1>
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <label htmlFor="token">Bearer token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(event) => setToken(event.target.value)} required />
        <p id="sign-in-help" className="hint">
          Locally, <code>npm run token</code> prints the development token; in AWS, sign in with the user pool.
        </p>
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Navigation({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [location] = useLocation();
  const current = (path: string) => (path === '/' ? location === '/' : location.startsWith(path));
  return (
    <header className="top">
      <span className="brand">Therapeutic analytics</span>
      <nav aria-label="Views">
        <ul>
          {VIEWS.filter((view) => mayOpen(session.role, view.path)).map((view) => (
            <li key={view.path}>
              <Link href={view.path} aria-current={current(view.path) ? 'page' : undefined}>
                {view.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <span className="who">
        {session.subject} ({session.role}){' '}
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </span>
    </header>
  );
}

function Forbidden() {
  return <p className="notice">Your role does not open this view.</p>;
}

/**
 * The token of this tab: one kept from earlier, or, back from the user pool's hosted pages, the
 * one their answer is exchanged for (the address is then cleaned of the code).
 */
async function tokenOnArrival(config: AppConfig): Promise<string | null> {
  if (config.auth.kind === 'cognito') {
    const token = await completeSignIn(config.auth, new URL(window.location.href));
    if (token) {
      window.history.replaceState(null, '', '/');
      return token;
    }
  }
  return storedToken();
}

export function App() {
  const [config, setConfig] = useState<AppConfig>();
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    void readConfig().then(async (read) => {
      try {
        const token = await tokenOnArrival(read);
        if (token) {
          const signedIn = await signIn(token);
          storeToken(token);
          setSession(signedIn);
        }
      } catch (error) {
        storeToken(null);
        setFailure(error instanceof Error ? error.message : 'Sign-in failed.');
      }
      setConfig(read);
    });
  }, []);
  if (!config) return <p className="notice">Signing in…</p>;
  if (!session) return <SignIn config={config} onSession={setSession} failure={failure} />;
  const allowed = (path: (typeof VIEWS)[number]['path']) => mayOpen(session.role, path);
  const signOut = () => {
    storeToken(null);
    setSession(null);
  };
  return (
    <SessionContext.Provider value={session}>
      <Navigation session={session} onSignOut={signOut} />
      <main id="main">
        <Suspense fallback={<p className="notice">Loading…</p>}>
          <Switch>
            <Route path="/">{allowed('/') ? <Overview /> : <Forbidden />}</Route>
            <Route path="/explore">{allowed('/explore') ? <Explorer /> : <Forbidden />}</Route>
            <Route path="/dashboards">{allowed('/dashboards') ? <Dashboards /> : <Forbidden />}</Route>
            <Route path="/dashboards/:id">{(params) => (allowed('/dashboards') ? <DashboardView id={params.id} /> : <Forbidden />)}</Route>
            <Route path="/cohorts">{allowed('/cohorts') ? <Cohorts /> : <Forbidden />}</Route>
            <Route path="/patterns">{allowed('/patterns') ? <Patterns /> : <Forbidden />}</Route>
            <Route path="/predictions">{allowed('/predictions') ? <Predictions /> : <Forbidden />}</Route>
            <Route path="/alerts">{allowed('/alerts') ? <Alerts /> : <Forbidden />}</Route>
            <Route path="/alerts/:id">{(params) => (allowed('/alerts') ? <Alerts focus={params.id} /> : <Forbidden />)}</Route>
            <Route path="/anomalies">{allowed('/anomalies') ? <Anomalies /> : <Forbidden />}</Route>
            <Route path="/reports">{allowed('/reports') ? <Reports /> : <Forbidden />}</Route>
            <Route path="/privacy">{allowed('/privacy') ? <Privacy /> : <Forbidden />}</Route>
            <Route>
              <p className="notice">No such view.</p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}
