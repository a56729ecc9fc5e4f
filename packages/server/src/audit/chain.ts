/**
 * The audit log's hash chain: each entry's hash covers its fields and the previous
 * entry's hash (SHA-256), so altering or removing any row breaks every hash after it.
 * Pure functions, shared by the writer and `rempart audit verify`.
 */
import { createHash } from 'node:crypto';
import type { AuditOutcome, AuditVerifyResult } from '@rempart/core';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  seq: number;
  at: Date;
  actorId: string | null;
  actor: string | null;
  action: string;
  outcome: AuditOutcome;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/** JSON with object keys sorted at every depth: PostgreSQL's jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function entryHash(fields: ChainedFields, prevHash: string): string {
  const material = canonicalJson([
    fields.seq,
    fields.at.toISOString(),
    fields.actorId,
    fields.actor,
    fields.action,
    fields.outcome,
    fields.targetId,
    fields.ip,
    fields.details,
    prevHash,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

export interface StoredEntry extends ChainedFields {
  prevHash: string;
  hash: string;
}

/**
 * Walks entries in `seq` order and names the first one that does not hold.
 * `head` is the recorded chain head; a missing tail is reported against it.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private count = 0;
  private broken: Extract<AuditVerifyResult, { ok: false }> | undefined;

  push(entry: StoredEntry): boolean {
    if (this.broken) return false;
    this.count++;
    if (entry.seq !== this.expectedSeq) {
      return this.fail(this.expectedSeq, 'missing_entry');
    }
    if (entry.prevHash !== this.prevHash) return this.fail(entry.seq, 'chain_broken');
    if (entryHash(entry, entry.prevHash) !== entry.hash) return this.fail(entry.seq, 'hash_mismatch');
    this.prevHash = entry.hash;
    this.expectedSeq++;
    return true;
  }

  finish(head: { seq: number; hash: string } | undefined): AuditVerifyResult {
    if (this.broken) return this.broken;
    const lastSeq = this.expectedSeq - 1;
    if (head && (head.seq > lastSeq || (head.seq === lastSeq && head.hash !== this.prevHash))) {
      return { ok: false, entries: this.count, firstBrokenSeq: lastSeq + 1, reason: 'missing_entry' };
    }
    if (!head && lastSeq > 0) {
      return { ok: false, entries: this.count, firstBrokenSeq: 1, reason: 'chain_broken' };
    }
    return { ok: true, entries: this.count };
  }

  private fail(seq: number, reason: 'hash_mismatch' | 'chain_broken' | 'missing_entry'): false {
    this.broken = { ok: false, entries: this.count, firstBrokenSeq: seq, reason };
    return false;
  }
}
