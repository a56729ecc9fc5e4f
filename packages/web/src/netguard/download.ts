/**
 * Files the server sends to be saved (a group's device profiles): the name it gives them, and
 * the one a browser saves them under when it gives none.
 */
import type { DevicePlatform } from '@rempart/core';

/**
 * The file name of a `Content-Disposition: attachment` header (RFC 6266 §4.1), the UTF-8
 * `filename*` form first; `fallback` when there is none. Never a path: only the last part is kept.
 *
 * @example
 *   attachmentName('attachment; filename="rempart-cabinet.mobileconfig"', 'x') // → 'rempart-cabinet.mobileconfig'
 */
export function attachmentName(header: string | null, fallback: string): string {
  if (header === null) return fallback;
  let name: string | undefined;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)?.[1];
  if (extended !== undefined) {
    try {
      name = decodeURIComponent(extended.trim());
    } catch {
      // A malformed encoding: the plain form, if any, decides.
    }
  }
  name ??= /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header)?.slice(1).find(Boolean);
  const base = name?.replace(/\\(.)/g, '$1').split(/[/\\]/).pop()?.trim();
  return base === undefined || base === '' || base === '.' || base === '..' ? fallback : base;
}

/** The name a group's profile is saved under when the server names none (the server's own pattern). */
export function policyFileName(platform: DevicePlatform, group: string): string {
  return platform === 'ios' ? `rempart-${group}.mobileconfig` : `rempart-${group}-android-policy.json`;
}
