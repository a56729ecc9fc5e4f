/**
 * The commands that block and unblock an address, as argv arrays, for the two backends:
 *
 * - **nftables**: the address goes into a set with a timeout, so the kernel lifts the block by
 *   itself even if Rempart is stopped. `table inet rempart` holds `blocked4` (ipv4_addr) and
 *   `blocked6` (ipv6_addr), both `flags timeout`, and an `input` chain dropping packets whose
 *   source is in either. The setup runs as one `nft` transaction and can run at every start: `add`
 *   leaves an existing table, set or chain alone, and the chain is flushed before its two rules are
 *   added, so they are never doubled; the sets are not flushed, so blocks survive a restart.
 * - **fail2ban**: `fail2ban-client set <jail> banip <ip>` and `unbanip`. A jail has one ban time
 *   for all its bans, so Rempart lifts its bans itself at their expiry; the jail's `bantime` should
 *   be at least as long (or -1).
 *
 * `nft` reads its arguments as one line, joined by spaces; `;` separates the commands of one
 * transaction (nft(8) § COMMAND SYNTAX), which is how one call does several things atomically.
 */
import type { IpAddress } from './address.js';

export interface BlockBackend {
  readonly name: 'nftables' | 'fail2ban';
  /** Whether the blocks expire by themselves (else the responder lifts them at their expiry). */
  readonly expiresByItself: boolean;
  /** What to run once at start, if anything. */
  setup(): string[] | undefined;
  block(address: IpAddress, seconds: number): string[];
  /** What refreshes the block of an address already blocked; undefined when nothing needs to run. */
  extend(address: IpAddress, seconds: number): string[] | undefined;
  unblock(address: IpAddress): string[];
}

export interface NftablesNames {
  command: string;
  table: string;
  set4: string;
  set6: string;
  chain: string;
}

export function nftablesBackend(names: NftablesNames): BlockBackend {
  const { command, table, set4, set6, chain } = names;
  const setOf = (address: IpAddress) => (address.family === 4 ? set4 : set6);
  const add = (address: IpAddress, seconds: number) => [
    'add',
    'element',
    'inet',
    table,
    setOf(address),
    '{',
    address.address,
    'timeout',
    nftDuration(seconds),
    '}',
  ];
  const remove = (address: IpAddress) => [
    'delete',
    'element',
    'inet',
    table,
    setOf(address),
    '{',
    address.address,
    '}',
  ];
  return {
    name: 'nftables',
    expiresByItself: true,
    setup: () => [
      command,
      ...['add', 'table', 'inet', table, ';'],
      ...[
        'add',
        'set',
        'inet',
        table,
        set4,
        '{',
        'type',
        'ipv4_addr',
        ';',
        'flags',
        'timeout',
        ';',
        '}',
        ';',
      ],
      ...[
        'add',
        'set',
        'inet',
        table,
        set6,
        '{',
        'type',
        'ipv6_addr',
        ';',
        'flags',
        'timeout',
        ';',
        '}',
        ';',
      ],
      ...[
        'add',
        'chain',
        'inet',
        table,
        chain,
        '{',
        'type',
        'filter',
        'hook',
        'input',
        'priority',
        'filter',
        ';',
      ],
      ...['policy', 'accept', ';', '}', ';'],
      ...['flush', 'chain', 'inet', table, chain, ';'],
      ...['add', 'rule', 'inet', table, chain, 'ip', 'saddr', `@${set4}`, 'drop', ';'],
      ...['add', 'rule', 'inet', table, chain, 'ip6', 'saddr', `@${set6}`, 'drop'],
    ],
    block: (address, seconds) => [command, ...add(address, seconds)],
    // Adding an element that is already in a set leaves its timeout as it was on most kernels; in
    // one transaction, adding it (in case it expired meanwhile), deleting it and adding it again
    // with the new timeout works on all of them.
    extend: (address, seconds) => [
      command,
      ...add(address, seconds),
      ';',
      ...remove(address),
      ';',
      ...add(address, seconds),
    ],
    unblock: (address) => [command, ...remove(address)],
  };
}

export function fail2banBackend(names: { command: string; jail: string }): BlockBackend {
  const { command, jail } = names;
  return {
    name: 'fail2ban',
    expiresByItself: false,
    setup: () => undefined,
    block: (address) => [command, 'set', jail, 'banip', address.address],
    // Banned already: banning again would change nothing; the expiry is Rempart's to move.
    extend: () => undefined,
    unblock: (address) => [command, 'set', jail, 'unbanip', address.address],
  };
}

/** A duration as nft writes it: `1h`, `90m`, `3600s` → `1h`; the largest unit that divides it. */
export function nftDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
