import { createContext, useContext } from 'react';
import type { Role, Session } from './api';

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; views are only rendered inside one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in view');
  return session;
}

/** The views and who may open them: the API's roles for the routes each view reads (roles.ts). */
export const VIEWS = [
  { path: '/', label: 'Overview', roles: ['admin', 'analyst', 'clinician'] },
  { path: '/explore', label: 'Metric explorer', roles: ['admin', 'analyst'] },
  { path: '/dashboards', label: 'Dashboards', roles: ['admin', 'analyst', 'clinician'] },
  { path: '/cohorts', label: 'Cohorts', roles: ['admin', 'analyst'] },
  { path: '/patterns', label: 'Patterns', roles: ['admin', 'analyst'] },
  { path: '/predictions', label: 'Predictions', roles: ['admin', 'analyst'] },
  { path: '/alerts', label: 'Alerts', roles: ['admin', 'clinician'] },
  { path: '/anomalies', label: 'Anomalies', roles: ['admin', 'analyst'] },
  { path: '/reports', label: 'Reports', roles: ['admin', 'analyst'] },
  { path: '/privacy', label: 'Privacy and audit', roles: ['admin'] },
] as const satisfies readonly { path: string; label: string; roles: readonly Role[] }[];

export const mayOpen = (role: Role, path: (typeof VIEWS)[number]['path']): boolean => (VIEWS.find((view) => view.path === path)!.roles as readonly Role[]).includes(role);
