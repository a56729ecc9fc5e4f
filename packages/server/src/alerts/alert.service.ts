/**
 * The one alert stream: every module raises alerts here; the console reads the
 * table and follows the live feed.
 */
import { EventEmitter } from 'node:events';
import {
  RempartError,
  type Alert,
  type AlertFeedMessage,
  type AlertSource,
  type Severity,
} from '@rempart/core';
import type { Clock } from '../clock.js';
import type { AlertRepository, AlertRow } from './alert.repository.js';

export interface NewAlert {
  severity: Severity;
  source: AlertSource;
  title: string;
  details?: Record<string, unknown>;
}

/** What other modules see of the alert stream. */
export interface AlertSink {
  raise(alert: NewAlert): Promise<Alert>;
}

interface AlertEvents {
  message: [AlertFeedMessage];
}

export class AlertService implements AlertSink {
  private readonly feed = new EventEmitter<AlertEvents>();

  constructor(
    private readonly repo: AlertRepository,
    private readonly clock: Clock,
  ) {
    // One listener per open console tab; the default cap of 10 would warn on a busy desk.
    this.feed.setMaxListeners(0);
  }

  async raise(alert: NewAlert): Promise<Alert> {
    const row = await this.repo.insert({
      createdAt: this.clock.now(),
      severity: alert.severity,
      source: alert.source,
      title: alert.title,
      details: alert.details ?? {},
    });
    const view = toView(row);
    this.feed.emit('message', { type: 'alert', alert: view });
    return view;
  }

  async list(status: 'open' | 'acknowledged' | 'all', limit: number): Promise<Alert[]> {
    return (await this.repo.list(status, limit)).map(toView);
  }

  async acknowledge(id: string, by: string): Promise<Alert> {
    const row = await this.repo.acknowledge(id, by, this.clock.now());
    if (!row) throw RempartError.notFound('alert');
    const view = toView(row);
    this.feed.emit('message', { type: 'acknowledged', alert: view });
    return view;
  }

  /** Follows the live feed; returns the function that stops following. */
  subscribe(listener: (message: AlertFeedMessage) => void): () => void {
    this.feed.on('message', listener);
    return () => this.feed.off('message', listener);
  }
}

function toView(row: AlertRow): Alert {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    severity: row.severity,
    source: row.source,
    title: row.title,
    details: row.details,
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: row.acknowledgedBy,
  };
}
