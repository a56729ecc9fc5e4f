/**
 * "Test a name": what the administrator typed, read into the query the server takes, and the
 * server's verdict arranged to be read: the outcome, why the client is in its group, the rule
 * that decided and every rule that matched.
 */
import { DnsTestQuery, type DnsVerdict, type RuleMatch } from '@rempart/core';
import { blockSource, type BlockSource } from './stats';

export type TestQueryResult =
  | { ok: true; query: { domain: string; client?: string } }
  | { ok: false; problems: { domain?: 'required' | 'invalid'; client?: 'invalid' } };

/**
 * The name in what was typed: a pasted address (`https://www.tiktok.com/@x`) gives its host; a
 * final dot (the root, as in `tiktok.com.`) is dropped; letters are lowered.
 *
 * @example
 *   nameOf(' https://WWW.TikTok.com/@rempart ') // → 'www.tiktok.com'
 */
export function nameOf(typed: string): string {
  let name = typed.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    try {
      name = new URL(name).hostname;
    } catch {
      // Not an address after all: judged as it was typed.
    }
  }
  // An international name is asked for in its ASCII form (RFC 5891), as resolvers see it.
  if (/[^\x20-\x7e]/.test(name)) {
    try {
      name = new URL(`http://${name}`).hostname;
    } catch {
      // Left as typed, and refused below.
    }
  }
  return name.replace(/\.$/, '').toLowerCase();
}

const DomainName = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]{1,63}$/;

/**
 * The test query, checked with the API's own schema; an empty client is left to the server,
 * which then judges the name for 127.0.0.1.
 */
export function readTestQuery(domain: string, client: string): TestQueryResult {
  const name = nameOf(domain);
  const address = client.trim();
  const problems: Extract<TestQueryResult, { ok: false }>['problems'] = {};
  if (name === '') problems.domain = 'required';
  else if (!DomainName.test(name)) problems.domain = 'invalid';
  const parsed = DnsTestQuery.safeParse(
    address === '' ? { domain: name } : { domain: name, client: address },
  );
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.path[0] === 'client') problems.client = 'invalid';
      else problems.domain ??= 'invalid';
    }
  }
  if (problems.domain !== undefined || problems.client !== undefined) return { ok: false, problems };
  return { ok: true, query: address === '' ? { domain: name } : { domain: name, client: address } };
}

/** Why the client is in its group, as the server words it (`policy.ts` `groupOf`). */
export type GroupReason =
  | { kind: 'range' }
  | { kind: 'device'; device: string }
  | { kind: 'fallback' }
  | { kind: 'other'; text: string };

export function groupReason(why: string): GroupReason {
  if (why === 'address range') return { kind: 'range' };
  if (why === 'no other group claims this client') return { kind: 'fallback' };
  const device = /^enrolled device (.+)$/.exec(why)?.[1];
  if (device !== undefined) return { kind: 'device', device };
  return { kind: 'other', text: why };
}

/**
 * - `blocked`: a block rule decided (and no allow rule matched);
 * - `allowed-by-rule`: an allow rule decided, over any block rule;
 * - `allowed`: no rule of the group matches the name.
 */
export type Outcome = 'blocked' | 'allowed-by-rule' | 'allowed';

export interface MatchRow {
  match: RuleMatch;
  source: BlockSource;
  deciding: boolean;
}

export interface ExplainedVerdict {
  outcome: Outcome;
  deciding: MatchRow | undefined;
  /** Every matching rule, the deciding one first, the others in the group's order. */
  rows: MatchRow[];
  /** Block rules that matched but lost to an allow rule. */
  overruled: number;
}

const sameRule = (a: RuleMatch, b: RuleMatch): boolean =>
  a.action === b.action && a.list === b.list && a.line === b.line && a.rule === b.rule;

/**
 * @example
 *   explainVerdict(verdict).outcome // → 'blocked'
 */
export function explainVerdict(verdict: DnsVerdict): ExplainedVerdict {
  const decider = verdict.decidedBy;
  const row = (match: RuleMatch, deciding: boolean): MatchRow => ({
    match,
    source: blockSource(match.list, match.category),
    deciding,
  });
  const others = verdict.matches.filter((match) => decider === undefined || !sameRule(match, decider));
  const deciding = decider === undefined ? undefined : row(decider, true);
  const outcome: Outcome =
    verdict.action === 'block' ? 'blocked' : decider === undefined ? 'allowed' : 'allowed-by-rule';
  return {
    outcome,
    deciding,
    rows: [...(deciding ? [deciding] : []), ...others.map((match) => row(match, false))],
    overruled: outcome === 'allowed-by-rule' ? others.filter((match) => match.action === 'block').length : 0,
  };
}
