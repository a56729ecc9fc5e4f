import type { Agent, SessionState } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { matchRoute, redirectFor, type Route } from './routes';

const linkId = 'AbCdEfGhIjKlMnOpQrStU_';
const meetingId = '3d5f2a9e-8b7c-4d6e-9f10-a1b2c3d4e5f6';

const agent: Agent = {
  id: '11111111-1111-4111-8111-111111111111',
  email: 'claire.martin@example.org',
  displayName: 'Claire Martin',
  unit: 'DGSI',
  role: 'agent',
  clearance: 'internal',
  status: 'active',
  createdAt: '2026-03-01T08:00:00.000Z',
  lastSignInAt: null,
  factorCount: 1,
  lockedUntil: null,
};

function session(stage: 'mfa' | 'enrol' | 'full'): SessionState {
  return {
    authenticated: true,
    stage,
    agent,
    csrfToken: 'token',
    mfaAt: null,
    expiresAt: '2026-03-12T18:00:00.000Z',
  };
}
const signedOut: SessionState = { authenticated: false };

describe('console routes', () => {
  it('names the meetings list, one meeting and a meeting room', () => {
    expect(matchRoute('/meetings')).toEqual({ name: 'meetings' });
    expect(matchRoute('/meetings/')).toEqual({ name: 'meetings' });
    expect(matchRoute(`/meetings/${meetingId}`)).toEqual({ name: 'meeting', id: meetingId });
    expect(matchRoute(`/m/${linkId}`)).toEqual({ name: 'meeting-room', linkId });
  });

  it('reads a meeting id in any case, the way the server writes it', () => {
    expect(matchRoute(`/meetings/${meetingId.toUpperCase()}`)).toEqual({ name: 'meeting', id: meetingId });
  });

  it('takes only a 22-character link id as a meeting room, never a short code', () => {
    for (const path of [
      '/m/123456',
      `/m/${linkId}x`,
      `/m/${linkId.slice(1)}`,
      '/m/AbCdEfGhIjKlMnOpQrSt.U',
      '/m/',
    ])
      expect(matchRoute(path)).toEqual({ name: 'not-found' });
  });

  it('does not take anything after a meeting id for a meeting', () => {
    expect(matchRoute('/meetings/not-a-uuid')).toEqual({ name: 'not-found' });
    expect(matchRoute(`/meetings/${meetingId}/edit`)).toEqual({ name: 'not-found' });
  });

  it('names the leak check page', () => {
    expect(matchRoute('/leakcheck')).toEqual({ name: 'leakcheck' });
    expect(matchRoute('/leakcheck/')).toEqual({ name: 'leakcheck' });
    expect(matchRoute('/leakcheck/x')).toEqual({ name: 'not-found' });
  });

  it('names each section of the network guard at its own address', () => {
    expect(matchRoute('/netguard')).toEqual({ name: 'netguard', section: 'overview' });
    expect(matchRoute('/netguard/')).toEqual({ name: 'netguard', section: 'overview' });
    expect(matchRoute('/netguard/test')).toEqual({ name: 'netguard', section: 'test' });
    expect(matchRoute('/netguard/groups')).toEqual({ name: 'netguard', section: 'groups' });
    expect(matchRoute('/netguard/lists')).toEqual({ name: 'netguard', section: 'lists' });
    expect(matchRoute('/netguard/devices/')).toEqual({ name: 'netguard', section: 'devices' });
  });

  it('does not take an unknown network guard section, or the overview under a second name', () => {
    for (const path of ['/netguard/overview', '/netguard/settings', '/netguard/groups/default', '/netguardx'])
      expect(matchRoute(path)).toEqual({ name: 'not-found' });
  });

  it('names each section of the spyware check, a device, and every agent’s own devices', () => {
    expect(matchRoute('/spyware')).toEqual({ name: 'spyware', section: 'fleet' });
    expect(matchRoute('/spyware/')).toEqual({ name: 'spyware', section: 'fleet' });
    expect(matchRoute('/spyware/request')).toEqual({ name: 'spyware', section: 'request' });
    expect(matchRoute('/spyware/indicators')).toEqual({ name: 'spyware', section: 'indicators' });
    expect(matchRoute(`/spyware/devices/${meetingId.toUpperCase()}`)).toEqual({
      name: 'spyware-device',
      id: meetingId,
    });
    expect(matchRoute('/my-devices')).toEqual({ name: 'my-devices' });
  });

  it('does not take an unknown spyware section, a device without a valid id, or the fleet under a second name', () => {
    for (const path of [
      '/spyware/fleet',
      '/spyware/settings',
      '/spyware/devices',
      '/spyware/devices/not-a-uuid',
      `/spyware/devices/${meetingId}/scans`,
      '/spywarex',
      '/my-devices/x',
    ])
      expect(matchRoute(path)).toEqual({ name: 'not-found' });
  });

  it('names each section of the server watch at its own address', () => {
    expect(matchRoute('/watch')).toEqual({ name: 'watch', section: 'overview' });
    expect(matchRoute('/watch/')).toEqual({ name: 'watch', section: 'overview' });
    expect(matchRoute('/watch/search')).toEqual({ name: 'watch', section: 'search' });
    expect(matchRoute('/watch/hits/')).toEqual({ name: 'watch', section: 'hits' });
    expect(matchRoute('/watch/hunt')).toEqual({ name: 'watch', section: 'hunt' });
    expect(matchRoute('/watch/blocks')).toEqual({ name: 'watch', section: 'blocks' });
  });

  it('does not take an unknown server watch section, or the overview under a second name', () => {
    for (const path of ['/watch/overview', '/watch/rules', '/watch/blocks/203.0.113.7', '/watchx'])
      expect(matchRoute(path)).toEqual({ name: 'not-found' });
  });

  it('names an application’s sign-in request by its interaction id, and the applications page', () => {
    expect(matchRoute('/oidc/interaction/PCAyHyTSwDLLGJ8I1NsHu')).toEqual({
      name: 'oidc-interaction',
      uid: 'PCAyHyTSwDLLGJ8I1NsHu',
    });
    expect(matchRoute('/admin/applications/')).toEqual({ name: 'applications' });
  });

  it('does not take the provider’s own addresses, or an id the server would refuse, as a sign-in request', () => {
    for (const path of [
      '/oidc/interaction/',
      '/oidc/interaction/abc/details',
      '/oidc/interaction/abc.def',
      `/oidc/interaction/${'a'.repeat(65)}`,
      '/oidc/auth',
      '/oidc/session/end',
    ])
      expect(matchRoute(path)).toEqual({ name: 'not-found' });
  });

  it('still knows the console pages it knew', () => {
    expect(matchRoute('/')).toEqual({ name: 'home' });
    expect(matchRoute('/admin/agents')).toEqual({ name: 'agents' });
    expect(matchRoute('/enrol/abc_DEF-123')).toEqual({ name: 'enrol-link', token: 'abc_DEF-123' });
  });
});

describe('where a session is sent', () => {
  const room: Route = { name: 'meeting-room', linkId };

  it('lets a signed-out person open a meeting room: the room explains and offers sign-in or the guest way', () => {
    expect(redirectFor(room, signedOut)).toBeUndefined();
    expect(redirectFor(room, session('mfa'))).toBeUndefined();
    expect(redirectFor(room, session('full'))).toBeUndefined();
  });

  it('sends an agent who must still enrol a factor to enrolment, even from a meeting room', () => {
    expect(redirectFor(room, session('enrol'))).toBe('/enrol');
  });

  it('keeps the meetings pages for complete sessions', () => {
    expect(redirectFor({ name: 'meetings' }, signedOut)).toBe('/sign-in');
    expect(redirectFor({ name: 'meeting', id: meetingId }, session('mfa'))).toBe('/sign-in');
    expect(redirectFor({ name: 'meetings' }, session('enrol'))).toBe('/enrol');
    expect(redirectFor({ name: 'meetings' }, session('full'))).toBeUndefined();
  });

  it('opens the leak check to every agent with a complete session, and to nobody else', () => {
    const leakcheck: Route = { name: 'leakcheck' };
    expect(redirectFor(leakcheck, signedOut)).toBe('/sign-in');
    expect(redirectFor(leakcheck, session('mfa'))).toBe('/sign-in');
    expect(redirectFor(leakcheck, session('enrol'))).toBe('/enrol');
    expect(redirectFor(leakcheck, session('full'))).toBeUndefined();
  });

  it('keeps the network guard for complete sessions (the page itself is for administrators only)', () => {
    const netguard: Route = { name: 'netguard', section: 'groups' };
    expect(redirectFor(netguard, signedOut)).toBe('/sign-in');
    expect(redirectFor(netguard, session('mfa'))).toBe('/sign-in');
    expect(redirectFor(netguard, session('enrol'))).toBe('/enrol');
    expect(redirectFor(netguard, session('full'))).toBeUndefined();
  });

  it('keeps the spyware pages and my devices for complete sessions (the fleet itself is for administrators)', () => {
    const routes: Route[] = [
      { name: 'spyware', section: 'indicators' },
      { name: 'spyware-device', id: meetingId },
      { name: 'my-devices' },
    ];
    for (const route of routes) {
      expect(redirectFor(route, signedOut)).toBe('/sign-in');
      expect(redirectFor(route, session('mfa'))).toBe('/sign-in');
      expect(redirectFor(route, session('enrol'))).toBe('/enrol');
      expect(redirectFor(route, session('full'))).toBeUndefined();
    }
  });

  it('keeps the server watch for complete sessions (the page itself is for administrators only)', () => {
    const watch: Route = { name: 'watch', section: 'search' };
    expect(redirectFor(watch, signedOut)).toBe('/sign-in');
    expect(redirectFor(watch, session('mfa'))).toBe('/sign-in');
    expect(redirectFor(watch, session('enrol'))).toBe('/enrol');
    expect(redirectFor(watch, session('full'))).toBeUndefined();
  });

  it('signs an agent in on the application’s sign-in request itself, which names the application', () => {
    const interaction: Route = { name: 'oidc-interaction', uid: 'PCAyHyTSwDLLGJ8I1NsHu' };
    expect(redirectFor(interaction, signedOut)).toBeUndefined();
    expect(redirectFor(interaction, session('mfa'))).toBeUndefined();
    expect(redirectFor(interaction, session('full'))).toBeUndefined();
    expect(redirectFor(interaction, session('enrol'))).toBe('/enrol');
  });

  it('keeps the applications page for complete sessions (the page itself is for administrators only)', () => {
    const applications: Route = { name: 'applications' };
    expect(redirectFor(applications, signedOut)).toBe('/sign-in');
    expect(redirectFor(applications, session('mfa'))).toBe('/sign-in');
    expect(redirectFor(applications, session('enrol'))).toBe('/enrol');
    expect(redirectFor(applications, session('full'))).toBeUndefined();
  });

  it('sends a complete session away from the sign-in page', () => {
    expect(redirectFor({ name: 'sign-in' }, session('full'))).toBe('/');
  });
});
