/**
 * The console's routes as data: which page a path names, and where a session must go instead.
 * Pure (no window, no React), so the rules are tested without a browser; `router.tsx` wires
 * them to the History API.
 */
import { MeetingLinkId, OidcInteractionParam, Uuid, type SessionState } from '@rempart/core';
import { netguardSectionOf, type NetguardSection } from './netguard/sections';
import { watchSectionOf, type WatchSection } from './serverwatch/sections';
import { spywareSectionOf, type SpywareSection } from './spyware/sections';

export type Route =
  | { name: 'sign-in' }
  | { name: 'enrol-link'; token: string }
  | { name: 'enrol' }
  | { name: 'home' }
  | { name: 'account' }
  | { name: 'agents' }
  /** `/admin/applications`: the applications that sign agents in with Rempart (OpenID Connect). */
  | { name: 'applications' }
  | { name: 'alerts' }
  | { name: 'audit' }
  | { name: 'meetings' }
  | { name: 'meeting'; id: string }
  | { name: 'leakcheck' }
  /** `/netguard` and `/netguard/<section>`: the network guard, for administrators. */
  | { name: 'netguard'; section: NetguardSection }
  /** `/spyware` and `/spyware/<section>`: the spyware check of the fleet, for administrators. */
  | { name: 'spyware'; section: SpywareSection }
  /** `/spyware/devices/<id>`: one device, its scans and findings. */
  | { name: 'spyware-device'; id: string }
  /** `/watch` and `/watch/<section>`: the server watch, for administrators. */
  | { name: 'watch'; section: WatchSection }
  /** `/my-devices`: an agent's own devices, their checks and the requests awaiting consent. */
  | { name: 'my-devices' }
  /** `/m/<linkId>`: the address a meeting is shared by. */
  | { name: 'meeting-room'; linkId: string }
  /** `/oidc/interaction/<uid>`: an application asks Rempart to sign the agent in. */
  | { name: 'oidc-interaction'; uid: string }
  | { name: 'not-found' };

/**
 * @example
 *   matchRoute('/m/AbCdEfGhIjKlMnOpQrStUv') // → { name: 'meeting-room', linkId: 'AbCdEfGhIjKlMnOpQrStUv' }
 *   matchRoute('/m/1234')                   // → { name: 'not-found' }
 */
export function matchRoute(path: string): Route {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  switch (trimmed) {
    case '/':
      return { name: 'home' };
    case '/sign-in':
      return { name: 'sign-in' };
    case '/enrol':
      return { name: 'enrol' };
    case '/account':
      return { name: 'account' };
    case '/admin/agents':
      return { name: 'agents' };
    case '/admin/applications':
      return { name: 'applications' };
    case '/alerts':
      return { name: 'alerts' };
    case '/audit':
      return { name: 'audit' };
    case '/meetings':
      return { name: 'meetings' };
    case '/leakcheck':
      return { name: 'leakcheck' };
    case '/my-devices':
      return { name: 'my-devices' };
  }
  const netguard = /^\/netguard(?:\/([^/]+))?$/.exec(trimmed);
  if (netguard) {
    const section = netguardSectionOf(netguard[1] ?? '');
    if (section !== undefined) return { name: 'netguard', section };
  }
  const spyware = /^\/spyware(?:\/([^/]+))?$/.exec(trimmed);
  if (spyware) {
    const section = spywareSectionOf(spyware[1] ?? '');
    if (section !== undefined) return { name: 'spyware', section };
  }
  const watch = /^\/watch(?:\/([^/]+))?$/.exec(trimmed);
  if (watch) {
    const section = watchSectionOf(watch[1] ?? '');
    if (section !== undefined) return { name: 'watch', section };
  }
  const spywareDevice = /^\/spyware\/devices\/([^/]+)$/.exec(trimmed);
  if (spywareDevice?.[1] !== undefined && Uuid.safeParse(spywareDevice[1]).success)
    return { name: 'spyware-device', id: spywareDevice[1].toLowerCase() };
  const enrolLink = /^\/enrol\/([A-Za-z0-9_-]+)$/.exec(trimmed);
  if (enrolLink?.[1] !== undefined) return { name: 'enrol-link', token: enrolLink[1] };
  const meeting = /^\/meetings\/([^/]+)$/.exec(trimmed);
  if (meeting?.[1] !== undefined && Uuid.safeParse(meeting[1]).success)
    return { name: 'meeting', id: meeting[1].toLowerCase() };
  const interaction = /^\/oidc\/interaction\/([^/]+)$/.exec(trimmed);
  if (interaction?.[1] !== undefined && OidcInteractionParam.safeParse({ uid: interaction[1] }).success)
    return { name: 'oidc-interaction', uid: interaction[1] };
  const room = /^\/m\/([^/]+)$/.exec(trimmed);
  if (room?.[1] !== undefined && MeetingLinkId.safeParse(room[1]).success)
    return { name: 'meeting-room', linkId: room[1] };
  return { name: 'not-found' };
}

/** Where a session must go instead of `route`, if anywhere. */
export function redirectFor(route: Route, state: SessionState): string | undefined {
  if (route.name === 'enrol-link') return undefined;
  // The meeting room makes its own admission check: signed out, the page says so and offers
  // sign-in or, where the meeting takes them, the way in for external guests.
  if (route.name === 'meeting-room' && !(state.authenticated && state.stage === 'enrol')) return undefined;
  // An application's sign-in request is signed in to on its own page, which names the application.
  if (route.name === 'oidc-interaction' && !(state.authenticated && state.stage === 'enrol'))
    return undefined;
  if (!state.authenticated || state.stage === 'mfa') return route.name === 'sign-in' ? undefined : '/sign-in';
  if (state.stage === 'enrol') return route.name === 'enrol' ? undefined : '/enrol';
  // A full session on /enrol may still be reading its recovery codes: the page decides.
  return route.name === 'sign-in' ? '/' : undefined;
}
