/**
 * The network guard's sections, each at its own address under `/netguard`, so that a reload or
 * a shared link lands on the same one.
 *
 * @example
 *   netguardPath('groups')   // → '/netguard/groups'
 *   netguardSectionOf('')    // → 'overview'
 */
export const netguardSections = ['overview', 'test', 'groups', 'lists', 'devices'] as const;
export type NetguardSection = (typeof netguardSections)[number];

export function netguardPath(section: NetguardSection): string {
  return section === 'overview' ? '/netguard' : `/netguard/${section}`;
}

/** The section named by what follows `/netguard/` (empty for the overview); undefined when none is. */
export function netguardSectionOf(rest: string): NetguardSection | undefined {
  if (rest === '') return 'overview';
  if (rest === 'overview') return undefined;
  return netguardSections.find((section) => section === rest);
}
