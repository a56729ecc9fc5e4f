/** The one alert stream every module writes to. */
import { z } from 'zod';

export const severities = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(severities);
export type Severity = z.infer<typeof Severity>;

export const alertSources = [
  'identity',
  'audit',
  'meetings',
  'leakcheck',
  'netguard',
  'spyware',
  'serverwatch',
] as const;
export const AlertSource = z.enum(alertSources);
export type AlertSource = z.infer<typeof AlertSource>;

export const Alert = z
  .object({
    id: z.uuid(),
    createdAt: z.iso.datetime(),
    severity: Severity,
    source: AlertSource,
    title: z.string(),
    details: z.record(z.string(), z.unknown()),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.string().nullable(),
  })
  .meta({ id: 'Alert' });
export type Alert = z.infer<typeof Alert>;

export const AlertListQuery = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'all']).default('all'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Messages on the live alert feed (WebSocket `/api/alerts/live`). */
export const AlertFeedMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('alert'), alert: Alert }),
  z.object({ type: z.literal('acknowledged'), alert: Alert }),
]);
export type AlertFeedMessage = z.infer<typeof AlertFeedMessage>;
