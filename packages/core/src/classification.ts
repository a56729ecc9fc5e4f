/**
 * Classification levels, lowest first. An agent's clearance is the highest level
 * they may see; a meeting's classification is compared against it.
 *
 * @example
 *   clears('restricted', 'internal') // → true
 */
export const classifications = ['public', 'internal', 'restricted', 'secret'] as const;
export type Classification = (typeof classifications)[number];

export function classificationRank(level: Classification): number {
  return classifications.indexOf(level);
}

/** True when an agent with `clearance` may see something classified `level`. */
export function clears(clearance: Classification, level: Classification): boolean {
  return classificationRank(clearance) >= classificationRank(level);
}
