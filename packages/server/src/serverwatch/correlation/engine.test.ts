import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FieldValue, WatchEvent } from '../event.js';
import {
  conditionHolds,
  isFloorOnly,
  loadCorrelation,
  loadCorrelationsFromText,
  saturation,
  SigmaCorrelationError,
  type CorrelationRule,
} from './correlation.js';
import { CorrelationEngine, readField, type CorrelationHit, type RuleRef } from './engine.js';

const SPEC = fileURLToPath(
  new URL(
    '../../../assets/serverwatch/sigmahq/spec/sigma-correlation-rules-specification.md',
    import.meta.url,
  ),
);
/** The YAML examples of the correlation specification, word for word. */
const specExamples = [...readFileSync(SPEC, 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** The example of the specification that starts with `start`. */
function example(start: string): string {
  const found = specExamples.find((text) => text.startsWith(start));
  if (found === undefined) throw new Error(`the specification has no example starting with ${start}`);
  return found;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const event = (time: number, fields: Record<string, FieldValue> = {}): WatchEvent => ({
  time,
  logsource: { product: 'windows', service: 'security' },
  fields,
  raw: JSON.stringify(fields),
  parsed: true,
});

const rule = (yaml: string): CorrelationRule => loadCorrelation(parse(yaml), 'mr_test.yml');

/** A detection rule as the detection engine would describe it. */
const detection = (id: string, name?: string): RuleRef => ({
  id,
  title: `rule ${id}`,
  ...(name === undefined ? {} : { name }),
});

/** Feeds `[time, fields, matched rule ids]` in order, then ends the stream; every hit raised. */
function run(
  engine: CorrelationEngine,
  stream: [number, Record<string, FieldValue>, string[]][],
  end = true,
): CorrelationHit[] {
  const hits = stream.flatMap(([time, fields, matched]) => engine.push(event(time, fields), matched));
  return end ? [...hits, ...engine.flush()] : hits;
}

describe('event_count', () => {
  // Spec § Event Count: "More than or equal 100 failed login attempts to a destination host in an hour".
  const manyFailedLogins = rule(example('title: Many failed logins'));
  const failedLogin = detection('5638f7c0-ac70-491d-8465-2a65075e0d86', 'failed_login');

  it('raises the specification example on the hundredth failed login to one host within the hour', () => {
    const engine = new CorrelationEngine([manyFailedLogins], { rules: [failedLogin] });
    const failures = Array.from({ length: 100 }, (_, i): [number, Record<string, FieldValue>, string[]] => [
      i * 30 * SECOND,
      { ComputerName: 'mail01', EventID: 4625 },
      [failedLogin.id],
    ]);
    const hits = run(engine, failures.slice(0, 99), false);
    expect(hits).toEqual([]);
    const [hit, ...more] = run(engine, failures.slice(99));
    expect(more).toEqual([]);
    expect(hit).toMatchObject({
      group: { ComputerName: 'mail01' },
      value: 100,
      eventCount: 100,
      firstTime: 0,
      lastTime: 99 * 30 * SECOND,
    });
    expect(hit!.rule.title).toBe('Many failed logins');
    expect(hit!.events).toHaveLength(100);
  });

  it('does not count the events of other hosts, other rules, or outside the hour', () => {
    const engine = new CorrelationEngine([manyFailedLogins], { rules: [failedLogin, detection('other')] });
    const stream: [number, Record<string, FieldValue>, string[]][] = [];
    for (let i = 0; i < 99; i++) {
      stream.push([i * SECOND, { ComputerName: 'mail01' }, [failedLogin.id]]);
      stream.push([i * SECOND, { ComputerName: 'mail02' }, [failedLogin.id]]);
      stream.push([i * SECOND, { ComputerName: 'mail01' }, ['other']]);
    }
    // The hundredth comes one hour and one millisecond after the first: the first has left the window.
    stream.push([60 * MINUTE + 1, { ComputerName: 'mail01' }, [failedLogin.id]]);
    expect(run(engine, stream)).toEqual([]);
  });

  const three = rule(`
title: Three failures
correlation: { type: event_count, rules: [a], group-by: [User], timespan: 10s, condition: { gte: 3 } }
`);

  it('counts an event exactly one timespan after the first, and not one millisecond later', () => {
    const at = (last: number) =>
      run(new CorrelationEngine([three], { rules: [detection('a')] }), [
        [0, { User: 'alice' }, ['a']],
        [5 * SECOND, { User: 'alice' }, ['a']],
        [last, { User: 'alice' }, ['a']],
      ]);
    expect(at(10 * SECOND)).toHaveLength(1);
    expect(at(10 * SECOND + 1)).toEqual([]);
  });

  it('keeps interleaved groups apart and consumes the events of a hit', () => {
    const engine = new CorrelationEngine([three], { rules: [detection('a')] });
    const users = ['alice', 'bob', 'alice', 'carol', 'bob', 'alice', 'bob', 'alice', 'alice', 'alice'];
    const hits = run(
      engine,
      users.map((User, i) => [i * SECOND, { User }, ['a']]),
    );
    // alice: 6 events → two hits of three; bob: 3 → one; carol: 1 → none.
    expect(hits.map((h) => [h.group.User, h.value, h.lastTime])).toEqual([
      ['alice', 3, 5 * SECOND],
      ['bob', 3, 6 * SECOND],
      ['alice', 3, 9 * SECOND],
    ]);
    expect(hits[1]!.events.map((e) => e.fields.User)).toEqual(['bob', 'bob', 'bob']);
  });

  it('puts events lacking a group-by field in a group of their own, apart from empty and null values', () => {
    const engine = new CorrelationEngine([three], { rules: [detection('a')] });
    const hits = run(engine, [
      [0, {}, ['a']],
      [1, { User: '' }, ['a']],
      [2, { User: null }, ['a']],
      [3, {}, ['a']],
      [4, { User: '' }, ['a']],
      [5, { other: 1 }, ['a']],
    ]);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.group).toEqual({});
    expect(hits[0]!.events.map((e) => e.time)).toEqual([0, 3, 5]);
  });

  it('counts one event once even when it matched several of the rules', () => {
    const both = rule(`
title: Either
correlation: { type: event_count, rules: [a, b], timespan: 1m, condition: { gte: 2 } }
`);
    const engine = new CorrelationEngine([both], { rules: [detection('a'), detection('b')] });
    expect(run(engine, [[0, {}, ['a', 'b']]])).toEqual([]);
    expect(
      run(engine, [
        [1, {}, ['a', 'b']],
        [2, {}, ['b']],
      ]),
    ).toHaveLength(1);
  });

  it('attaches only the most recent events to a hit, and says how many made it', () => {
    const many = rule(`
title: Many
correlation: { type: event_count, rules: [a], timespan: 1h, condition: { gte: 500 } }
`);
    const engine = new CorrelationEngine([many], { rules: [detection('a')], maxEventsPerHit: 20 });
    const hits = run(
      engine,
      Array.from({ length: 500 }, (_, i) => [i, {}, ['a']]),
    );
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ eventCount: 500, firstTime: 0, lastTime: 499 });
    expect(hits[0]!.events.map((e) => e.time)).toEqual(Array.from({ length: 20 }, (_, i) => 480 + i));
  });
});

describe('value_count', () => {
  // Spec § Value Count: "Failed logon attempts with more than 100 different user accounts per source
  // and destination at a day" (gte: 100 as published).
  const failedLogin = rule(example('title: Failed login'));
  const base = [detection('5638f7c0-ac70-491d-8465-2a65075e0d86')];

  it('raises the specification example on the hundredth distinct account, not on repeated ones', () => {
    const engine = new CorrelationEngine([failedLogin], { rules: base });
    const from = { ComputerName: 'mail01', WorkstationName: 'KALI' };
    const stream: [number, Record<string, FieldValue>, string[]][] = [];
    for (let i = 0; i < 99; i++) {
      // Each account tried twice: 198 events, 99 accounts.
      stream.push([i * MINUTE, { ...from, User: `agent${i}` }, [base[0]!.id]]);
      stream.push([i * MINUTE + 1, { ...from, User: `agent${i}` }, [base[0]!.id]]);
    }
    stream.push([100 * MINUTE, { ...from, User: 'agent0' }, [base[0]!.id]]);
    // A different workstation is another group: its account does not count here.
    stream.push([
      100 * MINUTE,
      { ComputerName: 'mail01', WorkstationName: 'OTHER', User: 'x' },
      [base[0]!.id],
    ]);
    // An event without the counted field has no value to count.
    stream.push([100 * MINUTE, from, [base[0]!.id]]);
    expect(run(engine, stream, false)).toEqual([]);
    const hits = run(engine, [[101 * MINUTE, { ...from, User: 'agent99' }, [base[0]!.id]]]);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ value: 100, group: from, eventCount: 100, lastTime: 101 * MINUTE });
    // The latest event of each account: agent0's came back at 100 minutes.
    expect(hits[0]!.firstTime).toBe(1 * MINUTE + 1);
  });

  it('counts a value again once its last sighting has left the window', () => {
    const users = rule(`
title: Spraying
correlation:
  type: value_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 10s
  condition: { field: TargetUserName, gte: 3 }
`);
    const engine = new CorrelationEngine([users], { rules: [detection('failed')] });
    const ip = (time: number, user: string): [number, Record<string, FieldValue>, string[]] => [
      time,
      { IpAddress: '203.0.113.9', TargetUserName: user },
      ['failed'],
    ];
    expect(run(engine, [ip(0, 'a'), ip(5 * SECOND, 'b'), ip(10 * SECOND + 1, 'c')], false)).toEqual([]);
    // 'a' seen again: b, c, a within ten seconds.
    expect(run(engine, [ip(11 * SECOND, 'a')])).toHaveLength(1);
  });

  it('lets the oldest value go exactly one millisecond after its timespan, each time anew', () => {
    const users = rule(`
title: Spraying
correlation: { type: value_count, rules: [failed], group-by: [ip], timespan: 10s, condition: { field: user, gte: 3 } }
`);
    const at = (time: number, user: string): [number, Record<string, FieldValue>, string[]] => [
      time,
      { ip: '203.0.113.9', user },
      ['failed'],
    ];
    // a leaves when c comes; b is then the oldest, and leaves 1 ms after its own timespan.
    const before = [at(0, 'a'), at(5 * SECOND, 'b'), at(10 * SECOND + 1, 'c')];
    const late = new CorrelationEngine([users], { rules: [detection('failed')] });
    expect(run(late, [...before, at(15 * SECOND + 1, 'd')])).toEqual([]);
    const inTime = new CorrelationEngine([users], { rules: [detection('failed')] });
    expect(run(inTime, [...before, at(15 * SECOND, 'd')]).map((h) => h.value)).toEqual([3]);
  });

  it('counts distinct combinations when the field is a list', () => {
    const pairs = rule(`
title: Pairs
correlation: { type: value_count, rules: [a], timespan: 1m, condition: { field: [User, Host], gte: 3 } }
`);
    const engine = new CorrelationEngine([pairs], { rules: [detection('a')] });
    const hits = run(engine, [
      [0, { User: 'u', Host: 'h1' }, ['a']],
      [1, { User: 'u', Host: 'h2' }, ['a']],
      [2, { User: 'u', Host: 'h1' }, ['a']],
      [3, { User: 'u' }, ['a']],
      [4, { User: 'v', Host: 'h1' }, ['a']],
    ]);
    expect(hits.map((h) => h.value)).toEqual([3]);
  });
});

describe('temporal', () => {
  // Spec § Temporal Proximity: "Reconnaissance commands defined in three Sigma rules are invoked in
  // arbitrary order within 5 minutes on a system by the same user".
  const recon = rule(`title: Reconnaissance\n${example('correlation:\n    type: temporal\n')}`);
  const base = [
    detection('11111111-0000-4000-8000-000000000001', 'recon_cmd_a'),
    detection('11111111-0000-4000-8000-000000000002', 'recon_cmd_b'),
    detection('11111111-0000-4000-8000-000000000003', 'recon_cmd_c'),
  ];
  const [a, b, c] = base.map((r) => r.id) as [string, string, string];
  const on = { ComputerName: 'srv1', User: 'alice' };

  it('raises the specification example when the three commands run in any order within five minutes', () => {
    const hits = run(new CorrelationEngine([recon], { rules: base }), [
      [0, on, [c]],
      [1 * MINUTE, on, [a]],
      [1 * MINUTE, on, [a]],
      [5 * MINUTE, on, [b]],
    ]);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ value: 3, firstTime: 0, lastTime: 5 * MINUTE, group: on });
    // The latest event of each rule.
    expect(hits[0]!.events.map((e) => e.time)).toEqual([0, 1 * MINUTE, 5 * MINUTE]);
  });

  it('needs the same system and user, and all three within the timespan', () => {
    const engine = (): CorrelationEngine => new CorrelationEngine([recon], { rules: base });
    expect(
      run(engine(), [
        [0, on, [a]],
        [1, { ...on, User: 'bob' }, [b]],
        [2, on, [c]],
      ]),
    ).toEqual([]);
    expect(
      run(engine(), [
        [0, on, [a]],
        [1, on, [b]],
        [5 * MINUTE + 1, on, [c]],
      ]),
    ).toEqual([]);
    expect(
      run(engine(), [
        [0, on, [a]],
        [1, on, [b]],
        [2, on, [b]],
      ]),
    ).toEqual([]);
  });

  it('groups by aliased fields, as in the field name aliases example', () => {
    // Spec § Field Name Aliases Example: the same address as destination of one rule's events and
    // source of the other's.
    const aliased = rule(example('title: —'));
    const rules = [detection('e1', 'internal_error'), detection('n1', 'new_network_connection')];
    const error = {
      'http.response.status_code': 500,
      'destination.ip': '10.0.0.5',
      'source.ip': '198.51.100.7',
    };
    // Nested, as JSON events hold it: `source.ip` read through the objects.
    const connection = { source: { ip: '10.0.0.5' }, destination: { ip: '198.51.100.7' } };
    const hits = run(new CorrelationEngine([aliased], { rules }), [
      [0, error, ['e1']],
      [10 * SECOND, connection, ['n1']],
    ]);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.group).toEqual({ internal_ip: '10.0.0.5', remote_ip: '198.51.100.7' });
    const reversed = { source: { ip: '198.51.100.7' }, destination: { ip: '10.0.0.5' } };
    expect(
      run(new CorrelationEngine([aliased], { rules }), [
        [0, error, ['e1']],
        [1, reversed, ['n1']],
      ]),
    ).toEqual([]);
  });
});

describe('temporal_ordered', () => {
  // Spec § Ordered Temporal Proximity: "many failed logins as defined above are followed by a
  // successful login by of the same user account within 1 hour".
  const ordered = rule(
    `title: Failed logins then success\n${example('correlation:\n    type: temporal_ordered\n')}`,
  );
  const base = [detection('f', 'many_failed_logins'), detection('s', 'successful_login')];

  it('raises when the rules match in the listed order, and not in the other', () => {
    const engine = (): CorrelationEngine => new CorrelationEngine([ordered], { rules: base });
    const inOrder = run(engine(), [
      [0, { User: 'alice' }, ['f']],
      [30 * MINUTE, { User: 'alice' }, ['s']],
    ]);
    expect(inOrder.map((h) => [h.group, h.value, h.firstTime, h.lastTime])).toEqual([
      [{ User: 'alice' }, 2, 0, 30 * MINUTE],
    ]);
    expect(
      run(engine(), [
        [0, { User: 'alice' }, ['s']],
        [30 * MINUTE, { User: 'alice' }, ['f']],
      ]),
    ).toEqual([]);
    expect(
      run(engine(), [
        [0, { User: 'alice' }, ['f']],
        [60 * MINUTE, { User: 'alice' }, ['s']],
      ]),
    ).toHaveLength(1);
    expect(
      run(engine(), [
        [0, { User: 'alice' }, ['f']],
        [60 * MINUTE + 1, { User: 'alice' }, ['s']],
      ]),
    ).toEqual([]);
  });

  it('raises at once with a condition written as "exactly all of the rules"', () => {
    const exactly = rule(`
title: Exactly both, in order
correlation: { type: temporal_ordered, rules: [many_failed_logins, successful_login], timespan: 1h, condition: { eq: 2 } }
`);
    const engine = new CorrelationEngine([exactly], { rules: base });
    expect(run(engine, [[0, {}, ['f']]], false)).toEqual([]);
    expect(run(engine, [[1, {}, ['s']]], false).map((h) => h.value)).toEqual([2]);
  });

  it('never lets one event follow itself, even when it matches both rules', () => {
    const engine = new CorrelationEngine([ordered], { rules: base });
    expect(run(engine, [[0, { User: 'alice' }, ['f', 's']]], false)).toEqual([]);
    expect(run(engine, [[1, { User: 'alice' }, ['f', 's']]])).toHaveLength(1);
  });

  it('holds a group only once its first rule matched: a later rule alone starts nothing', () => {
    const engine = new CorrelationEngine([ordered], { rules: base });
    run(engine, [[0, { User: 'alice' }, ['s']]], false);
    run(engine, [[1, { User: 'bob' }, ['s']]], false);
    expect(engine.stats().groups).toBe(0);
    run(engine, [[2, { User: 'alice' }, ['f']]], false);
    expect(engine.stats().groups).toBe(1);
    expect(run(engine, [[3, { User: 'alice' }, ['s']]])).toHaveLength(1);
  });

  it('uses the latest start so that a late success still completes a recent chain', () => {
    const engine = new CorrelationEngine([ordered], { rules: base });
    const hits = run(engine, [
      [0, { User: 'alice' }, ['f']],
      [50 * MINUTE, { User: 'alice' }, ['f']],
      [70 * MINUTE, { User: 'alice' }, ['s']],
    ]);
    expect(hits.map((h) => [h.firstTime, h.lastTime])).toEqual([[50 * MINUTE, 70 * MINUTE]]);
  });
});

describe('the complete example of the specification', () => {
  // Spec § Example "Failed Logins Followed by Successful Login": an event_count chained into a
  // temporal_ordered, rules referred to by name.
  const text = example('title: Correlation - Multiple Failed Logins');
  const correlations = loadCorrelationsFromText(text, 'mr_failed_logins_then_success.yml');
  const base = [
    detection('53ba33fd-3a50-4468-a5ef-c583635cfa92', 'failed_login'),
    detection('4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 'successful_login'),
  ];
  const [failed, success] = base.map((r) => r.id) as [string, string];

  it('raises the outer correlation on ten failures and a success of one user, and only it', () => {
    const engine = new CorrelationEngine(correlations, { rules: base });
    const stream: [number, Record<string, FieldValue>, string[]][] = [];
    for (let i = 0; i < 10; i++) stream.push([i * SECOND, { User: 'alice', EventID: 4625 }, [failed]]);
    for (let i = 0; i < 9; i++) stream.push([i * SECOND, { User: 'bob', EventID: 4625 }, [failed]]);
    stream.push([60 * SECOND, { User: 'bob', EventID: 4624 }, [success]]);
    stream.push([61 * SECOND, { User: 'alice', EventID: 4624 }, [success]]);
    const hits = run(engine, stream);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.rule.id).toBe('b180ead8-d58f-40b2-ae54-c8940995b9b6');
    expect(hits[0]!.rule.level).toBe('high');
    expect(hits[0]).toMatchObject({
      group: { User: 'alice' },
      value: 2,
      firstTime: 0,
      lastTime: 61 * SECOND,
    });
    // The ten failures of the inner correlation and the success.
    expect(hits[0]!.events.map((e) => e.fields.EventID)).toEqual([...Array<number>(10).fill(4625), 4624]);
  });

  it('silences the detection rules used without generate, and reports the inner correlation on request', () => {
    const engine = new CorrelationEngine(correlations, { rules: base });
    expect([...engine.silencedRules].sort()).toEqual([failed, success].sort());
    const all = new CorrelationEngine(correlations, { rules: base, reportReferenced: true });
    const stream: [number, Record<string, FieldValue>, string[]][] = Array.from({ length: 10 }, (_, i) => [
      i,
      { User: 'alice' },
      [failed],
    ]);
    expect(run(all, stream).map((h) => h.rule.name)).toEqual(['multiple_failed_login']);
  });

  it('keeps the detection rules of a correlation that generates them', () => {
    const generating = correlations.map((r) => (r.type === 'event_count' ? { ...r, generate: true } : r));
    const engine = new CorrelationEngine(generating, { rules: base });
    // The inner correlation generates failed_login; the outer does not generate successful_login.
    expect([...engine.silencedRules]).toEqual([success]);
  });
});

describe('chains', () => {
  const inner = rule(`
title: Two of a
name: inner
correlation: { type: event_count, rules: [a], timespan: 1m, condition: { gte: 2 } }
`);
  const outer = (first: string, second: string) =>
    rule(`
title: ${first} then ${second}
correlation: { type: temporal_ordered, rules: [${first}, ${second}], timespan: 1m }
`);
  const base = [detection('a'), detection('b')];

  it("orders the hit an event raises after that event's own matches, whatever the order of the rules", () => {
    for (const correlations of [
      [outer('b', 'inner'), inner],
      [inner, outer('b', 'inner')],
    ]) {
      const hits = run(new CorrelationEngine(correlations, { rules: base }), [
        [0, {}, ['a']],
        [1, {}, ['a', 'b']],
      ]);
      // The second event counts once, though it made both the match of b and the inner hit.
      expect(hits.map((h) => [h.rule.title, h.events.map((e) => e.time)])).toEqual([
        ['b then inner', [0, 1]],
      ]);
    }
    for (const correlations of [
      [outer('inner', 'b'), inner],
      [inner, outer('inner', 'b')],
    ]) {
      const engine = new CorrelationEngine(correlations, { rules: base });
      expect(
        run(
          engine,
          [
            [0, {}, ['a']],
            [1, {}, ['a', 'b']],
          ],
          false,
        ),
      ).toEqual([]);
      expect(run(engine, [[2, {}, ['b']]]).map((h) => h.rule.title)).toEqual(['inner then b']);
    }
  });
});

describe('ceiling conditions', () => {
  const exactly = rule(`
title: Exactly five
correlation: { type: event_count, rules: [a], group-by: [User], timespan: 1m, condition: { eq: 5 } }
`);

  it('judges a window only once it is over: five events raise, six do not', () => {
    const five = (n: number) =>
      Array.from({ length: n }, (_, i): [number, Record<string, FieldValue>, string[]] => [
        i * SECOND,
        { User: 'u' },
        ['a'],
      ]);
    const engine = new CorrelationEngine([exactly], { rules: [detection('a')] });
    expect(run(engine, five(5), false)).toEqual([]);
    // The window opened at 0 closes at one minute; time passing it closes the window.
    expect(engine.advance(MINUTE)).toEqual([]);
    const hits = engine.advance(MINUTE + 1);
    expect(hits.map((h) => [h.value, h.firstTime, h.lastTime, h.eventCount])).toEqual([
      [5, 0, 4 * SECOND, 5],
    ]);
    expect(run(new CorrelationEngine([exactly], { rules: [detection('a')] }), five(6))).toEqual([]);
  });

  it('judges the range "101 to 200" on windows from the first event of each group', () => {
    const range = rule(`
title: Between 3 and 4
correlation: { type: event_count, rules: [a], group-by: [User], timespan: 10s, condition: { gt: 2, lte: 4 } }
`);
    const engine = new CorrelationEngine([range], { rules: [detection('a')] });
    const hits = run(
      engine,
      [
        // alice: 3 in the first window, then 5 in the next: only the first is in range.
        ...[0, 1, 2].map((t): [number, Record<string, FieldValue>, string[]] => [
          t * SECOND,
          { User: 'alice' },
          ['a'],
        ]),
        ...[20, 21, 22, 23, 24].map((t): [number, Record<string, FieldValue>, string[]] => [
          t * SECOND,
          { User: 'alice' },
          ['a'],
        ]),
        // bob: 4 within ten seconds of his first.
        ...[5, 6, 14, 15].map((t): [number, Record<string, FieldValue>, string[]] => [
          t * SECOND,
          { User: 'bob' },
          ['a'],
        ]),
      ].sort((x, y) => x[0] - y[0]),
    );
    expect(hits.map((h) => [h.group.User, h.value, h.firstTime])).toEqual([
      ['alice', 3, 0],
      ['bob', 4, 5 * SECOND],
    ]);
  });

  it('attaches the most recent events of a long window, and counts them all', () => {
    const atMost = rule(`
title: At most a thousand
correlation: { type: event_count, rules: [a], timespan: 1h, condition: { lte: 1000 } }
`);
    const engine = new CorrelationEngine([atMost], { rules: [detection('a')], maxEventsPerHit: 20 });
    const hits = run(
      engine,
      Array.from({ length: 500 }, (_, i) => [i, {}, ['a']]),
    );
    expect(hits.map((h) => [h.value, h.eventCount, h.firstTime, h.lastTime])).toEqual([[500, 500, 0, 499]]);
    expect(hits[0]!.events.map((e) => e.time)).toEqual(Array.from({ length: 20 }, (_, i) => 480 + i));
  });

  it('says when a distinct count stopped where the answer could no longer change', () => {
    const fewUsers = rule(`
title: Not exactly two users
correlation: { type: value_count, rules: [a], timespan: 1m, condition: { field: User, neq: 2 } }
`);
    const engine = new CorrelationEngine([fewUsers], { rules: [detection('a')] });
    const hits = run(
      engine,
      ['a', 'b', 'c', 'd', 'e'].map((User, i) => [i, { User }, ['a']]),
    );
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ value: 3, atLeast: true, eventCount: 5 });
  });
});

describe('memory', () => {
  const three = rule(`
title: Three
correlation: { type: event_count, rules: [a], group-by: [IpAddress], timespan: 1m, condition: { gte: 3 } }
`);

  it('forgets groups whose events have all left the window', () => {
    const engine = new CorrelationEngine([three], { rules: [detection('a')] });
    run(
      engine,
      Array.from({ length: 50 }, (_, i) => [i, { IpAddress: `192.0.2.${i}` }, ['a']]),
      false,
    );
    expect(engine.stats().groups).toBe(50);
    engine.advance(49 + MINUTE);
    expect(engine.stats().groups).toBe(1);
    engine.advance(49 + MINUTE + 1);
    expect(engine.stats()).toMatchObject({ groups: 0, droppedGroups: 0 });
  });

  it('holds at most maxGroups groups, drops the least recently seen and counts them', () => {
    const engine = new CorrelationEngine([three], { rules: [detection('a')], maxGroups: 3 });
    const ip = (time: number, last: number): [number, Record<string, FieldValue>, string[]] => [
      time,
      { IpAddress: `192.0.2.${last}` },
      ['a'],
    ];
    // .1 twice, then .2, .3, .4, .5: .1 is dropped with its two events, then .2.
    const hits = run(engine, [ip(0, 1), ip(1, 1), ip(2, 2), ip(3, 3), ip(4, 4), ip(5, 5), ip(6, 1)], false);
    expect(hits).toEqual([]);
    expect(engine.stats()).toMatchObject({ groups: 3, droppedGroups: 3 });
    expect(engine.stats().byRule).toEqual([{ rule: 'Three', groups: 3, droppedGroups: 3 }]);
    // .1 starts again from its one new event.
    expect(run(engine, [ip(7, 1)], false)).toEqual([]);
    expect(run(engine, [ip(8, 1)], false)).toHaveLength(1);
  });

  it('forgets the windows of dropped groups before they end, and still judges the others', () => {
    const atMostTwo = rule(`
title: At most two
correlation: { type: event_count, rules: [a], group-by: [IpAddress], timespan: 1h, condition: { lte: 2 } }
`);
    const engine = new CorrelationEngine([atMostTwo], { rules: [detection('a')], maxGroups: 1000 });
    // A flood of new addresses: past 2 × 1000 + 1024 waiting windows, those of dropped groups are
    // forgotten at once; the 1000 groups held are judged at the end all the same.
    const hits = run(
      engine,
      Array.from({ length: 3500 }, (_, i) => [i, { IpAddress: `flood-${i}` }, ['a']]),
    );
    expect(hits.map((h) => h.group.IpAddress)).toEqual(
      Array.from({ length: 1000 }, (_, i) => `flood-${2500 + i}`),
    );
    expect(engine.stats().droppedGroups).toBe(2500);
  });

  it('counts events that come late at the latest time seen', () => {
    const engine = new CorrelationEngine([three], { rules: [detection('a')] });
    const hits = run(engine, [
      [10 * MINUTE, { IpAddress: 'x' }, ['a']],
      [0, { IpAddress: 'x' }, ['a']],
      [10 * MINUTE, { IpAddress: 'x' }, ['a']],
    ]);
    expect(hits).toHaveLength(1);
    expect(engine.stats().lateEvents).toBe(1);
    // An event without a usable time is counted at the latest time seen, too.
    expect(engine.push(event(Number.NaN, { IpAddress: 'y' }), ['a'])).toEqual([]);
    expect(engine.stats()).toMatchObject({ lateEvents: 2, groups: 1 });
  });
});

describe('building an engine', () => {
  it('refuses a reference to no known rule, naming the correlation file', () => {
    const r = loadCorrelation(
      parse(
        'title: x\ncorrelation: { type: event_count, rules: [ghost], timespan: 1m, condition: { gte: 1 } }',
      ),
      'mr_ghost.yml',
    );
    expect(() => new CorrelationEngine([r], { rules: [detection('a')] })).toThrow(
      new SigmaCorrelationError('mr_ghost.yml', 'correlation.rules', 'no rule has the id or name ghost'),
    );
  });

  it('refuses a correlation naming one rule twice, once by id and once by name', () => {
    const twice = rule('title: x\ncorrelation: { type: temporal, rules: [failed_login, f1], timespan: 1m }');
    expect(() => new CorrelationEngine([twice], { rules: [detection('f1', 'failed_login')] })).toThrow(
      /^mr_test\.yml: correlation\.rules: failed_login and f1 are the same rule$/,
    );
  });

  it('refuses correlations that refer to each other in a cycle', () => {
    const loop = (name: string, other: string) =>
      loadCorrelation(
        parse(
          `title: ${name}\nname: ${name}\ncorrelation: { type: temporal, rules: [${other}, a], timespan: 1m }`,
        ),
        `${name}.yml`,
      );
    expect(
      () => new CorrelationEngine([loop('one', 'two'), loop('two', 'one')], { rules: [detection('a')] }),
    ).toThrow(/correlation\.rules: a cycle: one → two → one/);
  });

  it('refuses two correlations with one name, and options that make no sense', () => {
    const named = rule('title: x\nname: n\ncorrelation: { type: temporal, rules: [a], timespan: 1m }');
    expect(() => new CorrelationEngine([named, named], { rules: [detection('a')] })).toThrow(
      /n is also the name/,
    );
    expect(() => new CorrelationEngine([], { maxGroups: 0 })).toThrow(SigmaCorrelationError);
  });

  it('reads dotted field names flat first, then through nested objects', () => {
    expect(readField({ 'source.ip': '1', source: { ip: '2' } }, 'source.ip')).toBe('1');
    expect(readField({ Event: { System: { Computer: 'dc1' } } }, 'Event.System.Computer')).toBe('dc1');
    expect(readField({ Event: ['x'] }, 'Event.0')).toBeUndefined();
    expect(readField({ a: null }, 'a')).toBeNull();
  });
});

/**
 * What a correlation should raise over a whole stream, recomputed from the full event list for
 * every event (quadratic, obviously right): the reference the engine is checked against.
 */
function reference(
  rule: CorrelationRule,
  stream: { time: number; fields: Record<string, FieldValue>; matched: string[] }[],
): {
  key: string;
  value: number;
  eventCount: number;
  firstTime: number;
  lastTime: number;
  atLeast: boolean;
}[] {
  const T = rule.timespanMs;
  const keyOf = (fields: Record<string, FieldValue>) =>
    JSON.stringify(rule.groupBy.map((g) => (g in fields ? [fields[g]] : 0)));
  const valueOf = (fields: Record<string, FieldValue>) => {
    const values = (rule.field ?? []).map((f) => fields[f]);
    return values.some((v) => v === undefined) ? undefined : JSON.stringify(values);
  };
  const indexes = (e: { matched: string[] }) =>
    rule.rules.flatMap((r, i) => (e.matched.includes(r) ? [i] : []));
  const relevant = stream
    .map((e, seq) => ({ ...e, seq, key: keyOf(e.fields), value: valueOf(e.fields), rules: indexes(e) }))
    .filter((e) => e.rules.length > 0 && (rule.type !== 'value_count' || e.value !== undefined));
  const hits: ReturnType<typeof reference> = [];

  if (!isFloorOnly(rule.condition)) {
    // Windows from each group's first event, judged whole.
    const limit = saturation(rule.condition);
    for (const key of new Set(relevant.map((e) => e.key))) {
      const events = relevant.filter((e) => e.key === key);
      for (let start = 0; start < events.length;) {
        const open = events[start]!.time;
        const inside = events.filter((e, i) => i >= start && e.time <= open + T);
        start += inside.length;
        const distinct =
          rule.type === 'event_count'
            ? inside.length
            : new Set(
                inside.flatMap((e): (string | number)[] =>
                  rule.type === 'value_count' ? [e.value!] : e.rules,
                ),
              ).size;
        const value = rule.type === 'event_count' ? distinct : Math.min(distinct, limit);
        if (conditionHolds(rule.condition, value)) {
          hits.push({
            key,
            value,
            eventCount: inside.length,
            firstTime: open,
            lastTime: inside.at(-1)!.time,
            atLeast: rule.type !== 'event_count' && distinct >= limit,
          });
        }
      }
    }
    return hits;
  }

  const fired = new Map<string, number>();
  for (const e of relevant) {
    const since = fired.get(e.key) ?? -1;
    const window = relevant.filter(
      (w) => w.key === e.key && w.seq > since && w.seq <= e.seq && w.time >= e.time - T,
    );
    let value: number;
    let eventCount: number;
    let firstTime: number;
    if (rule.type === 'event_count') {
      value = window.length;
      eventCount = value;
      firstTime = window[0]!.time;
    } else if (rule.type === 'temporal_ordered') {
      // Walk back from this event, taking for each earlier rule its latest event: the latest start.
      const last = rule.rules.length - 1;
      if (!e.rules.includes(last)) continue;
      let at = e;
      let complete = true;
      for (let r = last - 1; r >= 0 && complete; r--) {
        const previous = window.filter((w) => w.seq < at.seq && w.rules.includes(r)).at(-1);
        if (previous) at = previous;
        else complete = false;
      }
      if (!complete) continue;
      value = rule.rules.length;
      eventCount = value;
      firstTime = at.time;
    } else {
      const latest = new Map<string | number, (typeof window)[number]>();
      for (const w of window)
        for (const k of rule.type === 'value_count' ? [w.value!] : w.rules) latest.set(k, w);
      value = latest.size;
      eventCount = new Set(latest.values()).size;
      firstTime = Math.min(...[...latest.values()].map((w) => w.time));
    }
    if (conditionHolds(rule.condition, value)) {
      hits.push({ key: e.key, value, eventCount, firstTime, lastTime: e.time, atLeast: false });
      fired.set(e.key, e.seq);
    }
  }
  return hits;
}

describe('the engine against a reference that recomputes everything', () => {
  const ids = ['A', 'B', 'C'];
  const streams = fc
    .array(
      fc.record({
        // Whole seconds mostly, so that events often fall exactly at a window's edge; ±1 ms too.
        gap: fc.constantFrom(0, 0, 1, 999, 1000, 1000, 1001, 2000, 3000, 4000),
        user: fc.constantFrom('alice', 'bob', undefined),
        value: fc.constantFrom('x', 'y', 'z', undefined),
        matched: fc.subarray(ids),
      }),
      { maxLength: 80 },
    )
    .map((raw) => {
      let time = 1_000_000;
      return raw.map(({ gap, user, value, matched }) => {
        time += gap;
        const fields: Record<string, FieldValue> = {};
        if (user !== undefined) fields.user = user;
        if (value !== undefined) fields.value = value;
        return { time, fields, matched };
      });
    });
  const floor = fc.oneof(
    fc.record({ gte: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ gt: fc.integer({ min: 0, max: 4 }) }),
  );
  const ceiling = fc.oneof(
    fc.record({ eq: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ lt: fc.integer({ min: 2, max: 4 }) }),
    fc.record({ lte: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ neq: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ gte: fc.integer({ min: 1, max: 2 }), lte: fc.integer({ min: 2, max: 4 }) }),
  );
  const correlations = fc
    .record({
      type: fc.constantFrom('event_count', 'value_count', 'temporal', 'temporal_ordered'),
      rules: fc.shuffledSubarray(ids, { minLength: 1 }),
      groupBy: fc.constantFrom([], ['user']),
      seconds: fc.integer({ min: 1, max: 6 }),
      condition: fc.oneof(floor, ceiling),
      all: fc.boolean(),
    })
    // A temporal condition no count of its rules passes is refused when loading: none is drawn.
    .filter(
      ({ type, rules, condition, all }) =>
        type !== 'temporal' || all || rules.some((_, n) => conditionHolds(condition, n + 1)),
    )
    .map(({ type, rules, groupBy, seconds, condition, all }) =>
      loadCorrelation(
        {
          title: `random ${type}`,
          correlation: {
            type,
            rules,
            'group-by': groupBy,
            timespan: `${seconds}s`,
            ...(type === 'temporal_ordered' || (type === 'temporal' && all)
              ? {}
              : { condition: type === 'value_count' ? { ...condition, field: 'value' } : condition }),
          },
        },
        'random.yml',
      ),
    );

  it('raises exactly the hits the reference finds, for every type and condition', () => {
    fc.assert(
      fc.property(correlations, streams, (correlation, stream) => {
        const engine = new CorrelationEngine([correlation], { rules: ids.map((id) => detection(id)) });
        const hits = [
          ...stream.flatMap((e) => engine.push(event(e.time, e.fields), e.matched)),
          ...engine.flush(),
        ].map((h) => ({
          key: h.groupKey,
          value: h.value,
          eventCount: h.eventCount,
          firstTime: h.firstTime,
          lastTime: h.lastTime,
          atLeast: h.atLeast ?? false,
        }));
        const order = (a: { key: string; lastTime: number; firstTime: number }, b: typeof a) =>
          a.key.localeCompare(b.key) || a.firstTime - b.firstTime || a.lastTime - b.lastTime;
        expect(hits.sort(order)).toEqual(reference(correlation, stream).sort(order));
      }),
      { numRuns: 1500 },
    );
  });

  it('feeds a correlation the hits of another as if they were events of their own', () => {
    // Chaining (spec § Related rules): the outer correlation over the inner one's hits, in one
    // engine, raises what it raises when run alone over those hits turned into events.
    const inner = correlations
      .filter((r) => isFloorOnly(r.condition))
      .map((r) => ({ ...r, name: 'inner', groupBy: ['user'] }));
    const outer = fc
      .record({
        type: fc.constantFrom('event_count', 'value_count', 'temporal', 'temporal_ordered'),
        seconds: fc.integer({ min: 1, max: 20 }),
        condition: fc.oneof(floor, ceiling),
        groupBy: fc.constantFrom([], ['user']),
      })
      .map(({ type, seconds, condition, groupBy }) =>
        loadCorrelation(
          {
            title: 'outer',
            correlation: {
              type,
              rules: ['inner'],
              'group-by': groupBy,
              timespan: `${seconds}s`,
              ...(type.startsWith('temporal')
                ? {}
                : { condition: type === 'value_count' ? { ...condition, field: 'value' } : condition }),
            },
          },
          'outer.yml',
        ),
      );
    fc.assert(
      fc.property(inner, outer, streams, (first, second, stream) => {
        const base = ids.map((id) => detection(id));
        const chained = new CorrelationEngine([first, second], { rules: base });
        const together = [
          ...stream.flatMap((e) => chained.push(event(e.time, e.fields), e.matched)),
          ...chained.flush(),
        ];
        const alone = new CorrelationEngine([first], { rules: base });
        const innerHits = [
          ...stream.flatMap((e) => alone.push(event(e.time, e.fields), e.matched)),
          ...alone.flush(),
        ];
        const outerAlone = new CorrelationEngine([{ ...second, rules: ['inner-id'] }], {
          rules: [detection('inner-id')],
        });
        const apart = [
          ...innerHits.flatMap((h) =>
            outerAlone.push(event(h.lastTime, { ...h.events.at(-1)!.fields, ...h.group }), ['inner-id']),
          ),
          ...outerAlone.flush(),
        ];
        const view = (h: CorrelationHit) => [h.rule.title, h.groupKey, h.value, h.lastTime];
        expect(together.map(view)).toEqual(apart.map(view));
      }),
      { numRuns: 500 },
    );
  });

  it('holds nothing once a timespan has passed without events', () => {
    fc.assert(
      fc.property(correlations, streams, (correlation, stream) => {
        const engine = new CorrelationEngine([correlation], { rules: ids.map((id) => detection(id)) });
        for (const e of stream) engine.push(event(e.time, e.fields), e.matched);
        const end = stream.at(-1)?.time ?? 0;
        engine.advance(end + correlation.timespanMs + 1);
        expect(engine.stats().groups).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never holds more groups than its cap, and drops the least recently seen, counted', () => {
    const many = rule(
      'title: many\ncorrelation: { type: event_count, rules: [A], group-by: [user], timespan: 1h, condition: { gte: 1000 } }',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 60 }),
        (cap, users) => {
          const engine = new CorrelationEngine([many], { rules: [detection('A')], maxGroups: cap });
          // The model: groups in the order they were last seen.
          const held: number[] = [];
          let dropped = 0;
          users.forEach((user, i) => {
            engine.push(event(i, { user }), ['A']);
            const at = held.indexOf(user);
            if (at >= 0) held.splice(at, 1);
            else if (held.length === cap) {
              held.shift();
              dropped++;
            }
            held.push(user);
            expect(engine.stats()).toMatchObject({ groups: held.length, droppedGroups: dropped });
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
