import type { ComponentType } from 'react';
import { lazy } from 'react';
import type { LucideIcon } from 'lucide-react';
import {
  Activity,
  Bell,
  BookOpen,
  FileClock,
  Gauge,
  KeyRound,
  Route,
  Server,
  Settings,
  SquareTerminal,
  User,
  Users,
} from 'lucide-react';
import type { Role } from '@/auth/session';

export interface PageRoute {
  /** Path under /admin, without a leading slash; each page handles its own sub-paths. */
  path: string;
  /** The common nav label key. */
  label:
    | 'dashboard'
    | 'accounts'
    | 'keys'
    | 'users'
    | 'myKeys'
    | 'myUsage'
    | 'usage'
    | 'audit'
    | 'settings'
    | 'notifications'
    | 'routing'
    | 'setup';
  icon: LucideIcon;
  /** Who sees the page: the roles the server allows on the routes it reads. */
  roles: Role[];
  page: ComponentType;
}

const STAFF: Role[] = ['admin', 'operator', 'viewer'];
const ALL: Role[] = ['admin', 'operator', 'viewer', 'user'];

/** Every page of the console, in navigation order; code-split so a page loads when visited. */
export const PAGES: PageRoute[] = [
  {
    path: 'dashboard',
    label: 'dashboard',
    icon: Gauge,
    roles: STAFF,
    page: lazy(() => import('@/pages/dashboard')),
  },
  {
    path: 'accounts',
    label: 'accounts',
    icon: Server,
    roles: STAFF,
    page: lazy(() => import('@/pages/accounts')),
  },
  {
    path: 'keys',
    label: 'keys',
    icon: KeyRound,
    roles: STAFF,
    page: lazy(() => import('@/pages/keys')),
  },
  {
    path: 'usage',
    label: 'usage',
    icon: Activity,
    roles: STAFF,
    page: lazy(() => import('@/pages/usage')),
  },
  {
    path: 'routing',
    label: 'routing',
    icon: Route,
    roles: STAFF,
    page: lazy(() => import('@/pages/routing')),
  },
  {
    path: 'users',
    label: 'users',
    icon: Users,
    roles: ['admin', 'viewer'],
    page: lazy(() => import('@/pages/users')),
  },
  {
    path: 'audit',
    label: 'audit',
    icon: FileClock,
    roles: ['admin', 'viewer'],
    page: lazy(() => import('@/pages/audit')),
  },
  {
    path: 'settings',
    label: 'settings',
    icon: Settings,
    roles: ['admin', 'viewer'],
    page: lazy(() => import('@/pages/settings')),
  },
  {
    path: 'notifications',
    label: 'notifications',
    icon: Bell,
    roles: ['admin', 'viewer'],
    page: lazy(() => import('@/pages/notifications')),
  },
  {
    path: 'me/keys',
    label: 'myKeys',
    icon: User,
    roles: ALL,
    page: lazy(() => import('@/pages/me/keys')),
  },
  {
    path: 'me/usage',
    label: 'myUsage',
    icon: BookOpen,
    roles: ALL,
    page: lazy(() => import('@/pages/me/usage')),
  },
  {
    path: 'setup',
    label: 'setup',
    icon: SquareTerminal,
    roles: ALL,
    page: lazy(() => import('@/pages/setup')),
  },
];

/** Where a user lands after signing in. */
export function homePath(role: Role): string {
  return role === 'user' ? '/admin/me/keys' : '/admin/dashboard';
}
