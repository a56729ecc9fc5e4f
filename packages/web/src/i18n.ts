/**
 * The console's languages: typed dictionaries (`messages/*.ts`), the chosen language (from
 * localStorage, else the browser's preferences, else English) and locale-aware formatting.
 *
 * @example
 *   const { t } = useI18n();
 *   t('home.welcome', { name: 'Alice' }); // → "Welcome, Alice" / "Bienvenue, Alice"
 */
import type { ErrorCode } from '@rempart/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ClientErrorCode } from './api';
import { en, type MessageKey, type Messages } from './messages/en';
import { fr } from './messages/fr';
import { nl } from './messages/nl';

export type { MessageKey, Messages };

export const languages = ['en', 'fr', 'nl'] as const;
export type Language = (typeof languages)[number];

/** Each language named in itself, as a language switcher shows it. */
export const languageNames: Readonly<Record<Language, string>> = {
  en: 'English',
  fr: 'Français',
  nl: 'Nederlands',
};

export const dictionaries: Readonly<Record<Language, Messages>> = { en, fr, nl };

// Every code the server or the console can raise has a translation (a compile-time check).
type ErrorKey = `error.${ErrorCode | ClientErrorCode}`;
const everyErrorTranslated: ErrorKey extends MessageKey ? true : never = true;
void everyErrorTranslated;

export type Params = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** Fills `{name}` placeholders; an unknown placeholder is left as it is, visibly. */
export function interpolate(template: string, params: Params | undefined): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

export function translate(language: Language, key: MessageKey, params?: Params): string {
  return interpolate(dictionaries[language][key], params);
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** The stored choice if any, else the first of the browser's languages the console speaks. */
export function detectLanguage(stored: string | null, preferred: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

const STORAGE_KEY = 'rempart.language';

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled by policy; the browser's preference then decides.
    return null;
  }
}

export interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
  /** A date and time in the reader's language, e.g. "12 Mar 2026, 14:05". */
  formatDateTime: (iso: string) => string;
  /** A time of day in the reader's language, e.g. "09:41" or "9:41 AM". */
  formatTime: (iso: string) => string;
  formatNumber: (value: number) => string;
}

export const I18nContext = createContext<I18n | null>(null);

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside of I18nContext');
  return i18n;
}

/** The state behind `I18nContext`; the root component provides it. */
export function useLanguageState(): I18n {
  const [language, setLanguageState] = useState<Language>(() =>
    detectLanguage(storedLanguage(), navigator.languages),
  );

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not stored: the choice lasts until the page is reloaded.
    }
  }, []);

  return useMemo(() => {
    // The browser's regional variant of the chosen language (en-GB, fr-BE, nl-BE …) sets the
    // date and number formats; the plain language tag when the browser prefers none of them.
    const locale =
      navigator.languages.find((tag) => tag.toLowerCase().split('-')[0] === language) ?? language;
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const time = new Intl.DateTimeFormat(locale, { timeStyle: 'short' });
    const number = new Intl.NumberFormat(locale);
    return {
      language,
      setLanguage,
      t: (key, params) => translate(language, key, params),
      formatDateTime: (iso) => {
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
      },
      formatTime: (iso) => {
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : time.format(date);
      },
      formatNumber: (value) => number.format(value),
    };
  }, [language, setLanguage]);
}
