/**
 * What the console's page tests share: the fetch at the API boundary replaced by a mock (the only
 * thing replaced), an administrator's session, and components rendered to markup in a language.
 */
import type { SessionState } from '@rempart/core';
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, vi } from 'vitest';
import { rememberSession } from './api';
import { I18nContext, translate, type I18n, type Language } from './i18n';

export const fetchMock = vi.fn<typeof fetch>();

/** What the server answers: `body` as JSON with `status`. */
export const jsonAnswer = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const admin: SessionState = {
  authenticated: true,
  stage: 'full',
  agent: {
    id: '11111111-1111-4111-8111-111111111111',
    email: 'admin@example.org',
    displayName: 'Lea Admin',
    unit: 'DSI',
    role: 'admin',
    clearance: 'secret',
    status: 'active',
    createdAt: '2026-03-01T08:00:00.000Z',
    lastSignInAt: null,
    factorCount: 1,
    lockedUntil: null,
  },
  csrfToken: 'csrf-token',
  mfaAt: null,
  expiresAt: '2026-03-12T18:00:00.000Z',
};

/** Each test of the file calls the API as the administrator, through `fetchMock`. */
export function signedInAsAdmin(): void {
  beforeEach(() => {
    fetchMock.mockReset();
    vi.stubGlobal('fetch', fetchMock);
    rememberSession(admin);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    rememberSession({ authenticated: false });
  });
}

export function i18n(language: Language): I18n {
  return {
    language,
    setLanguage: () => undefined,
    t: (key, params) => translate(language, key, params),
    formatDateTime: (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`,
    formatTime: (iso) => iso.slice(11, 16),
    formatNumber: (value) => new Intl.NumberFormat(language).format(value),
  };
}

/** `element` rendered to markup, in `language`. */
export function render(element: ReactElement, language: Language = 'en'): string {
  return renderToStaticMarkup(createElement(I18nContext, { value: i18n(language) }, element));
}
