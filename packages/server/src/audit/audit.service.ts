/**
 * The audit log: every authentication and administration event, with who, what,
 * when and from where. Details never carry a secret (callers pass ids and reasons only).
 */
import type { AuditEntry, AuditOutcome, AuditVerifyResult } from '@rempart/core';
import type { Clock } from '../clock.js';
import type { AuditRepository } from './audit.repository.js';
import { ChainVerifier, type StoredEntry } from './chain.js';

export interface AuditEvent {
  action: string;
  outcome: AuditOutcome;
  actor?: { id: string; email: string } | null | undefined;
  targetId?: string | null | undefined;
  ip?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

export class AuditService implements AuditLog {
  constructor(
    private readonly repo: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    // Timestamps are kept to the millisecond so that they survive PostgreSQL's round trip exactly.
    const at = new Date(Math.floor(this.clock.now().getTime()));
    await this.repo.append({
      at,
      actorId: event.actor?.id ?? null,
      actor: event.actor?.email ?? null,
      action: event.action,
      outcome: event.outcome,
      targetId: event.targetId ?? null,
      ip: event.ip ?? null,
      details: event.details ?? {},
    });
  }

  async list(limit: number, before?: number): Promise<AuditEntry[]> {
    const rows = await this.repo.list(limit, before);
    return rows.map(toView);
  }

  async verify(onProgress?: (checked: number) => void): Promise<AuditVerifyResult> {
    const verifier = new ChainVerifier();
    let checked = 0;
    for await (const entry of this.repo.scan()) {
      if (!verifier.push(entry)) break;
      checked++;
      if (onProgress && checked % 1000 === 0) onProgress(checked);
    }
    return verifier.finish(await this.repo.head());
  }
}

function toView(e: StoredEntry): AuditEntry {
  return {
    seq: e.seq,
    at: e.at.toISOString(),
    actorId: e.actorId,
    actor: e.actor,
    action: e.action,
    outcome: e.outcome,
    targetId: e.targetId,
    ip: e.ip,
    details: e.details,
    hash: e.hash,
  };
}
