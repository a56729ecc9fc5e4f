import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLine } from './index.js';

describe('Rempart audit log lines', () => {
  it('read an entry as the API prints it, with user and src_ip beside the audit names', () => {
    const line = JSON.stringify({
      seq: 4812,
      at: '2026-12-03T11:04:00.123Z',
      actorId: '0b8f2f7e-4c1d-4a52-9d0e-51b7b1f0a9c3',
      actor: 'paul.bernard@ville.example',
      action: 'auth.password',
      outcome: 'failure',
      targetId: null,
      ip: '185.220.101.47',
      details: { reason: 'bad_password' },
      hash: 'a1b2',
    });
    const e = parseLine(line, 'audit', { source: 'audit' });
    expect(e).toMatchObject({
      parsed: true,
      time: Date.parse('2026-12-03T11:04:00.123Z'),
      logsource: { product: 'rempart', service: 'audit' },
    });
    expect(e.fields).toEqual({
      action: 'auth.password',
      outcome: 'failure',
      actor: 'paul.bernard@ville.example',
      user: 'paul.bernard@ville.example',
      actorId: '0b8f2f7e-4c1d-4a52-9d0e-51b7b1f0a9c3',
      ip: '185.220.101.47',
      src_ip: '185.220.101.47',
      seq: 4812,
      details: { reason: 'bad_password' },
    });
  });

  it('read the service’s own shape, whose actor is an object', () => {
    const e = parseLine(
      '{"action":"auth.locked","outcome":"denied","at":"2026-12-03T11:05:00+01:00","actor":{"id":"u1","email":"a@ville.example"}}',
      'audit',
    );
    expect(e.fields).toEqual({
      action: 'auth.locked',
      outcome: 'denied',
      actor: 'a@ville.example',
      user: 'a@ville.example',
      actorId: 'u1',
    });
    expect(e.time).toBe(Date.UTC(2026, 11, 3, 10, 5, 0));
  });

  it('keep lines that are not audit entries raw', () => {
    expect(parseLine('{"action":"x","outcome":"maybe","at":"2026-12-03T11:05:00Z"}', 'audit').parsed).toBe(
      false,
    );
    expect(parseLine('{"action":"x","outcome":"success"}', 'audit').parsed).toBe(false);
    expect(parseLine('[1,2]', 'audit')).toMatchObject({
      parsed: false,
      logsource: { product: 'rempart', service: 'audit' },
    });
  });
});

describe('JSON lines', () => {
  it('take the fields as they are, the time from the usual keys and a logsource the line carries', () => {
    const e = parseLine(
      '{"@timestamp":"2026-12-03T11:00:00Z","logsource":{"product":"linux","service":"sshd"},"user":"root","src_ip":"203.0.113.9","nested":{"a":[1,2]}}',
      'jsonl',
      { receivedAt: 5 },
    );
    expect(e).toMatchObject({
      parsed: true,
      time: Date.UTC(2026, 11, 3, 11),
      logsource: { product: 'linux', service: 'sshd' },
    });
    expect(e.fields).toMatchObject({ user: 'root', src_ip: '203.0.113.9', nested: { a: [1, 2] } });
    expect(parseLine('{"ts":1764759600}', 'jsonl').time).toBe(1764759600000);
    expect(parseLine('{"msg":"no time"}', 'jsonl', { receivedAt: 42 })).toMatchObject({
      time: 42,
      logsource: {},
    });
  });

  it('keep anything but one JSON object raw, and never throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (line) => {
          const e = parseLine(line, 'jsonl', { receivedAt: 1 });
          expect(e.raw).toBe(line);
          let object: unknown;
          try {
            object = JSON.parse(line);
          } catch {
            object = undefined;
          }
          const isObject = object !== null && typeof object === 'object' && !Array.isArray(object);
          expect(e.parsed).toBe(isObject);
          if (isObject) expect(e.fields).toEqual(object);
          else expect(e.fields).toEqual({});
        },
      ),
      { numRuns: 1000 },
    );
  });
});
