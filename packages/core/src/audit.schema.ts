/** The hash-chained audit log, as clients see it. */
import { z } from 'zod';

export const auditOutcomes = ['success', 'failure', 'denied'] as const;
export const AuditOutcome = z.enum(auditOutcomes);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditEntry = z
  .object({
    seq: z.number().int(),
    at: z.iso.datetime(),
    actorId: z.string().nullable(),
    actor: z.string().nullable(),
    action: z.string(),
    outcome: AuditOutcome,
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional(),
});

export const AuditVerifyResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), entries: z.number().int() }),
  z.object({
    ok: z.literal(false),
    entries: z.number().int(),
    firstBrokenSeq: z.number().int(),
    reason: z.enum(['hash_mismatch', 'chain_broken', 'missing_entry']),
  }),
]);
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;
