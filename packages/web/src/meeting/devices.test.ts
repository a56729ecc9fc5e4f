import { describe, expect, it } from 'vitest';
import { deviceProblem } from './devices';

const failure = (name: string) => Object.assign(new Error(name), { name });

describe('explaining why a device could not be opened', () => {
  it('tells a refusal from a missing or busy device', () => {
    expect(deviceProblem(failure('NotAllowedError'))).toBe('denied');
    expect(deviceProblem(failure('SecurityError'))).toBe('denied');
    expect(deviceProblem(failure('NotFoundError'))).toBe('notFound');
    expect(deviceProblem(failure('OverconstrainedError'))).toBe('notFound');
    expect(deviceProblem(failure('NotReadableError'))).toBe('inUse');
  });

  it('calls anything else a failure', () => {
    expect(deviceProblem(failure('TypeError'))).toBe('failed');
    expect(deviceProblem('nope')).toBe('failed');
    expect(deviceProblem(null)).toBe('failed');
  });
});
