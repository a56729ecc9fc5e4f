import { describe, expect, it } from 'vitest';
import { errorCodes, IdentityError, RempartError } from './errors.js';

describe('errors', () => {
  it('gives every code an HTTP status between 400 and 599', () => {
    for (const status of Object.values(errorCodes)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('serialises to the stable wire shape without a stack', () => {
    const e = IdentityError.tooManyAttempts(12);
    expect(e.status).toBe(429);
    expect(e.toBody()).toEqual({
      error: { code: 'too_many_attempts', message: expect.any(String), details: { retryAfterSeconds: 12 } },
    });
    expect(JSON.stringify(e.toBody())).not.toContain('at ');
  });

  it('marks server errors reportable and client errors not', () => {
    expect(RempartError.internal(new Error('db down')).reportable).toBe(true);
    expect(IdentityError.invalidCredentials().reportable).toBe(false);
  });
});
