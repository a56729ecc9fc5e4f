/**
 * The guard's policy, compiled: which group a client belongs to, and what that group's
 * categories and lists say of a name. Immutable: a change of groups or lists builds a new
 * policy and the resolver swaps it in between two queries, so a reload drops none.
 *
 * A client belongs to the group of the enrolled device holding its address; else to the group
 * whose CIDR range is the most specific one containing it; else to the default group.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import {
  DEFAULT_GROUP_ID,
  type BlockMode,
  type CategoryId,
  type DnsVerdict,
  type RuleMatch,
} from '@rempart/core';

/** What the policy needs of a compiled list: its verdict on a name, and every rule that matches. */
export interface ListMatcher {
  /** The first rule deciding `name` (an allow rule before any block rule), if any. */
  match(name: string): RuleMatch | undefined;
  /** Every rule of the list matching `name`. */
  explain(name: string): RuleMatch[];
}

export interface PolicyGroup {
  id: string;
  name: string;
  cidrs: string[];
  blockMode: BlockMode;
  trusted: boolean;
  categories: CategoryId[];
  /** The group's categories and lists, compiled; shared between groups using the same list. */
  matchers: ListMatcher[];
}

export interface PolicyInput {
  groups: PolicyGroup[];
  /** Addresses last reported by enrolled devices, and the device's group. */
  devices: { address: string; group: string; device: string }[];
}

export interface Decision {
  group: PolicyGroup;
  action: 'allow' | 'block';
  rule?: RuleMatch;
}

/** Client → group lookups are remembered; a busy resolver sees the same few clients again and again. */
const CLIENT_CACHE = 10_000;

interface Range {
  prefix: number;
  group: PolicyGroup;
  test: BlockList;
  family: 'ipv4' | 'ipv6';
}

export class Policy {
  readonly groups: ReadonlyMap<string, PolicyGroup>;
  private readonly fallback: PolicyGroup;
  private readonly ranges: Range[];
  private readonly devices: Map<string, { group: PolicyGroup; device: string }>;
  private readonly clients = new Map<string, PolicyGroup>();

  constructor(input: PolicyInput) {
    this.groups = new Map(input.groups.map((g) => [g.id, g]));
    const fallback = this.groups.get(DEFAULT_GROUP_ID);
    if (!fallback) throw new Error('the default group is missing');
    this.fallback = fallback;
    this.ranges = input.groups
      .filter((g) => g.id !== DEFAULT_GROUP_ID)
      .flatMap((group) => group.cidrs.map((cidr) => range(cidr, group)))
      // The most specific range wins, as in a routing table.
      .sort((a, b) => b.prefix - a.prefix);
    this.devices = new Map();
    for (const d of input.devices) {
      const group = this.groups.get(d.group);
      if (group) this.devices.set(normalise(d.address), { group, device: d.device });
    }
  }

  /** The group of `client` and why it is that one. */
  groupOf(client: string): { group: PolicyGroup; why: string } {
    const address = normalise(client);
    const device = this.devices.get(address);
    if (device) return { group: device.group, why: `enrolled device ${device.device}` };
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (family) {
      for (const r of this.ranges) {
        if (r.family === family && r.test.check(address, family))
          return { group: r.group, why: 'address range' };
      }
    }
    return { group: this.fallback, why: 'no other group claims this client' };
  }

  /** The hot path: the verdict on `name` for `client`, allow rules winning over block rules. */
  decide(name: string, client: string): Decision {
    let group = this.clients.get(client);
    if (!group) {
      group = this.groupOf(client).group;
      if (this.clients.size >= CLIENT_CACHE) this.clients.clear();
      this.clients.set(client, group);
    }
    let blocked: RuleMatch | undefined;
    for (const m of group.matchers) {
      const hit = m.match(name);
      if (!hit) continue;
      if (hit.action === 'allow') return { group, action: 'allow', rule: hit };
      blocked ??= hit;
    }
    return blocked ? { group, action: 'block', rule: blocked } : { group, action: 'allow' };
  }

  /** Every rule of the client's group matching `domain`, and the one that decides. */
  explain(domain: string, client: string): DnsVerdict {
    const { group, why } = this.groupOf(client);
    const matches = group.matchers.flatMap((m) => m.explain(domain));
    const decision = this.decide(domain, client);
    return {
      domain,
      client,
      group: { id: group.id, name: group.name, why },
      action: decision.action,
      ...(decision.rule ? { decidedBy: decision.rule } : {}),
      matches,
      blockMode: group.blockMode,
    };
  }
}

/** IPv4-mapped IPv6 addresses (what a dual-stack socket reports) are their IPv4 address. */
function normalise(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

/** `cidr` as an address, a family and a prefix length; undefined when it is not a range. */
export function parseCidr(
  cidr: string,
): { address: string; family: 'ipv4' | 'ipv6'; prefix: number } | undefined {
  const [address = '', bits, ...rest] = cidr.trim().split('/');
  if (rest.length > 0) return undefined;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, family, prefix };
}

function range(cidr: string, group: PolicyGroup): Range {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`${cidr} is not an address range`);
  const test = new BlockList();
  test.addSubnet(parsed.address, parsed.prefix, parsed.family);
  return { prefix: parsed.prefix, group, test, family: parsed.family };
}
