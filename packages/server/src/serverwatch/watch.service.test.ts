import { describe, expect, it } from 'vitest';
import { severityOf } from './watch.service.js';

describe('severityOf', () => {
  it("takes a rule's Sigma level for the alert's severity, and anything else for info", () => {
    expect(['low', 'medium', 'high', 'critical'].map(severityOf)).toEqual([
      'low',
      'medium',
      'high',
      'critical',
    ]);
    for (const other of [undefined, 'informational', 'HIGH', '', 'constructor', '__proto__', 'toString'])
      expect(severityOf(other)).toBe('info');
  });
});
