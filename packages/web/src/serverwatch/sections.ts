/**
 * The server watch's sections, each at its own address under `/watch`, so that a reload or a
 * shared link lands on the same one.
 *
 * @example
 *   watchPath('search')   // → '/watch/search'
 *   watchSectionOf('')    // → 'overview'
 */
export const watchSections = ['overview', 'search', 'hits', 'hunt', 'blocks'] as const;
export type WatchSection = (typeof watchSections)[number];

export function watchPath(section: WatchSection): string {
  return section === 'overview' ? '/watch' : `/watch/${section}`;
}

/** The section named by what follows `/watch/` (empty for the overview); undefined when none is. */
export function watchSectionOf(rest: string): WatchSection | undefined {
  if (rest === '') return 'overview';
  if (rest === 'overview') return undefined;
  return watchSections.find((section) => section === rest);
}
