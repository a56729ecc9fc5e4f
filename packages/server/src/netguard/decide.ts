/**
 * What the platform's resolver and a resolver replica share: compiled lists as the policy sees
 * them, a policy assembled from groups, the verdict the resolver is given, the query log's row for
 * an answered query, and the clients never rate-limited. Both decide every query the same way
 * because both go through these functions.
 */
import { DEFAULT_GROUP_ID, type BlockMode, type CategoryId, type RuleMatch } from '@rempart/core';
import { DOH_CANARY_DOMAIN } from './categories.js';
import type { ParsedList } from './lists.js';
import { compileMatcher, type MatchResult } from './matcher.js';
import type { QueryRow } from './netguard.repository.js';
import { parseCidr, Policy, type ListMatcher, type PolicyGroup } from './policy.js';
import type { BlockMode as AnswerMode, BlockReason, QueryEntry, Verdict } from './resolver.js';

/** A group as stored: what the policy holds of it, with its lists by id instead of compiled. */
export type GroupSpec = Omit<PolicyGroup, 'matchers'> & { lists: string[] };

export interface DeviceAddress {
  address: string;
  group: string;
  device: string;
}

/** A parsed list compiled for the policy; a category's rules say which category they come from. */
export function listMatcher(parsed: ParsedList, category?: CategoryId): ListMatcher {
  const matcher = compileMatcher([parsed]);
  const view = (m: MatchResult): RuleMatch => ({
    action: m.action,
    list: m.list,
    line: m.line,
    rule: m.text,
    ...(category ? { category } : {}),
    ...(m.label ? { malware: m.label } : {}),
  });
  return {
    match: (name) => {
      const m = matcher.match(name);
      return m ? view(m) : undefined;
    },
    explain: (name) => matcher.explain(name).map(view),
  };
}

/**
 * The policy of `groups`: each group's categories, then its lists, then the lists given for this
 * run (`extra`), in that order. A category or list the callbacks do not know is left out.
 */
export function assemblePolicy(
  groups: readonly GroupSpec[],
  devices: readonly DeviceAddress[],
  matchers: {
    category: (id: CategoryId) => ListMatcher | undefined;
    list: (id: string) => ListMatcher | undefined;
    extra: readonly ListMatcher[];
  },
): Policy {
  const policyGroups: PolicyGroup[] = groups.map((g) => ({
    id: g.id,
    name: g.name,
    cidrs: g.cidrs,
    blockMode: g.blockMode,
    trusted: g.trusted,
    categories: g.categories,
    matchers: [
      ...g.categories.flatMap((c) => matchers.category(c) ?? []),
      ...g.lists.flatMap((id) => matchers.list(id) ?? []),
      ...matchers.extra,
    ],
  }));
  return new Policy({ groups: policyGroups, devices: [...devices] });
}

/** Clients never rate-limited: the configured ranges, and the ranges and devices of trusted groups. */
export function trustedClients(
  configured: readonly string[],
  groups: readonly GroupSpec[],
  devices: readonly DeviceAddress[],
): string[] {
  const trusted = new Set(groups.filter((g) => g.trusted).map((g) => g.id));
  return [
    ...configured.filter((c) => parseCidr(c) !== undefined),
    ...groups.filter((g) => trusted.has(g.id)).flatMap((g) => g.cidrs),
    ...devices.filter((d) => trusted.has(d.group)).map((d) => d.address),
  ];
}

/** The resolver's question, answered from `policy`: block or allow `name` for `client`. */
export function verdictOf(
  policy: Policy | undefined,
  name: string,
  client: string,
  blockPage: { v4?: string; v6?: string },
): Verdict {
  if (!policy) return { action: 'allow' };
  const d = policy.decide(name, client);
  if (d.action === 'allow') return { action: 'allow', group: d.group.id };
  const rule = d.rule;
  return {
    action: 'block',
    group: d.group.id,
    reason: {
      list: rule?.list ?? '',
      rule: rule?.rule ?? '',
      ...(rule?.category ? { category: rule.category } : {}),
      ...(rule?.malware ? { malware: rule.malware } : {}),
    },
    // Only a negative answer keeps Firefox's automatic DNS over HTTPS off (see DOH_CANARY_DOMAIN).
    mode:
      name === DOH_CANARY_DOMAIN || name.endsWith(`.${DOH_CANARY_DOMAIN}`)
        ? 'nxdomain'
        : answerMode(d.group.blockMode, blockPage),
  };
}

function answerMode(mode: BlockMode, blockPage: { v4?: string; v6?: string }): AnswerMode {
  if (mode === 'blockpage' && (blockPage.v4 || blockPage.v6)) return { address: blockPage };
  return mode === 'null' ? 'null' : 'nxdomain';
}

/** The query log's row for one answered query. */
export function queryRowOf(entry: QueryEntry): QueryRow {
  const blocked = entry.verdict.action === 'block' ? entry.verdict.reason : undefined;
  return {
    at: entry.time,
    client: entry.client,
    protocol: entry.protocol,
    name: entry.name,
    type: entry.type,
    groupId: entry.verdict.group ?? DEFAULT_GROUP_ID,
    action: entry.verdict.action,
    list: blocked ? blocked.list : null,
    rule: blocked ? blocked.rule : null,
    rcode: entry.rcode,
    cached: entry.cached,
    durationMs: Math.round(entry.durationMs),
  };
}

/** Why a query was blocked when it asked for a name of the spyware category (it raises an alert). */
export const spywareReason = (entry: QueryEntry): BlockReason | undefined =>
  entry.verdict.action === 'block' && entry.verdict.reason.category === 'spyware'
    ? entry.verdict.reason
    : undefined;
