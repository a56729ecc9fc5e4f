/**
 * JSON lines: Rempart's own audit log (`product: rempart, service: audit`) and `jsonl`, one JSON
 * object per line whose fields are taken as they are.
 */
import { z } from 'zod';
import { auditOutcomes } from '@rempart/core';
import type { FieldValue, LogSource } from '../event.js';
import type { Fields } from './fields.js';

const OBJECT_START = /^[ \t\n\r]*\{/;

/**
 * The object of a JSON line, or undefined when the line is not one JSON object. What `JSON.parse`
 * returns is JSON by construction, so it is a `FieldValue` without a second walk over it.
 */
export function jsonObject(line: string): Record<string, FieldValue> | undefined {
  // Only JSON's own white space (RFC 8259 §2) may precede the object.
  if (!OBJECT_START.test(line)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, FieldValue>)
    : undefined;
}

/** The time a JSON object says it happened: `@timestamp`, `timestamp`, `time`, `ts` or `at`. */
export function jsonTime(object: Record<string, FieldValue>): number | undefined {
  for (const key of ['@timestamp', 'timestamp', 'time', 'ts', 'at']) {
    const v = object[key];
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      // Seconds or milliseconds since 1970: anything below 10^11 would be before 1973 in ms.
      return v < 1e11 ? Math.round(v * 1000) : Math.round(v);
    }
  }
  return undefined;
}

// One entry of the audit log as `rempart audit` and the API print it (core's AuditEntry), or as the
// service records it (AuditEvent, whose actor is an object).
const AuditLine = z.object({
  action: z.string().min(1),
  outcome: z.enum(auditOutcomes),
  at: z.iso.datetime({ offset: true }),
  actor: z.union([z.string(), z.object({ id: z.string(), email: z.string() }), z.null()]).optional(),
  actorId: z.string().nullable().optional(),
  targetId: z.string().nullable().optional(),
  ip: z.string().nullable().optional(),
  seq: z.number().int().optional(),
  hash: z.string().optional(),
});

/**
 * The fields of an audit log line, or undefined when the object is not one. The audit names are
 * kept (`action`, `outcome`, `actor`, `actorId`, `targetId`, `ip`, `details`, `seq`), and `user`
 * and `src_ip` repeat the actor and the address under the names the mail and sshd parsers use, so
 * that one correlation can follow an address across Rempart and the mail servers.
 */
export function auditFields(
  object: Record<string, FieldValue>,
): { time: number; fields: Fields } | undefined {
  const parsed = AuditLine.safeParse(object);
  if (!parsed.success) return undefined;
  const a = parsed.data;
  const fields: Fields = { action: a.action, outcome: a.outcome };
  const actor = typeof a.actor === 'string' ? a.actor : a.actor?.email;
  const actorId = a.actorId ?? (typeof a.actor === 'object' ? a.actor?.id : undefined);
  if (actor !== undefined) {
    fields.actor = actor;
    fields.user = actor;
  }
  if (actorId != null) fields.actorId = actorId;
  if (a.targetId != null) fields.targetId = a.targetId;
  if (a.ip != null) {
    fields.ip = a.ip;
    fields.src_ip = a.ip;
  }
  if (a.seq !== undefined) fields.seq = a.seq;
  const details = object.details;
  if (details !== null && typeof details === 'object' && !Array.isArray(details)) fields.details = details;
  return { time: Date.parse(a.at), fields };
}

export const AUDIT_LOGSOURCE: LogSource = Object.freeze({ product: 'rempart', service: 'audit' });

/** A `logsource` object a JSON line may carry itself (HTTP senders that know what they send). */
export function ownLogsource(object: Record<string, FieldValue>): LogSource {
  const own = object.logsource;
  if (own === null || typeof own !== 'object' || Array.isArray(own)) return {};
  const source: LogSource = {};
  if (typeof own.product === 'string') source.product = own.product;
  if (typeof own.service === 'string') source.service = own.service;
  if (typeof own.category === 'string') source.category = own.category;
  return source;
}
