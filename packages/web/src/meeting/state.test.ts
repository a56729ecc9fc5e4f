import { MeetingCloseCode, type ServerMessage } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import {
  MAX_ATTEMPTS_SHOWN,
  initialMeetingState,
  initials,
  meetingReducer,
  sortedRoster,
  stateLabel,
  type MeetingEvent,
  type MeetingState,
} from './state';
import { meetingView, participant, preview } from './test-fixtures';

const view = meetingView();

const me = participant('11111111-1111-4111-8111-111111111111', 'Claire Martin', { host: true });
const jean = participant('22222222-2222-4222-8222-222222222222', 'Jean Dupont');

const run = (events: MeetingEvent[], from: MeetingState = initialMeetingState) =>
  events.reduce(meetingReducer, from);
const message = (m: ServerMessage): MeetingEvent => ({ type: 'message', message: m });
const welcome = message({
  type: 'welcome',
  self: me,
  meeting: view,
  roster: [me, jean],
  chat: [],
  iceServers: [],
  resume: 'resume-token-1',
  resumed: false,
});
const joined = run([
  {
    type: 'check.answered',
    check: { outcome: 'admit', reason: null, meeting: preview, guestsWelcome: false },
  },
  { type: 'connect' },
  welcome,
]);

describe('the admission check', () => {
  it('goes to the pre-join screen when the person would be admitted or wait in the lobby', () => {
    for (const outcome of ['admit', 'lobby'] as const) {
      const state = run([
        { type: 'check.answered', check: { outcome, reason: null, meeting: preview, guestsWelcome: false } },
      ]);
      expect(state.phase).toBe('prejoin');
      expect(state.expected).toBe(outcome);
      expect(state.preview?.title).toBe('Crisis cell');
    }
  });

  it('keeps the refusal reason and learns nothing of the meeting', () => {
    const state = run([
      {
        type: 'check.answered',
        check: { outcome: 'refuse', reason: 'not_invited', meeting: null, guestsWelcome: false },
      },
    ]);
    expect(state.phase).toBe('refused');
    expect(state.reason).toBe('not_invited');
    expect(state.preview).toBeNull();
  });

  it('tells a signed-out person apart, with whether guests are welcome', () => {
    const state = run([
      {
        type: 'check.answered',
        check: { outcome: 'refuse', reason: 'unauthenticated', meeting: null, guestsWelcome: true },
      },
    ]);
    expect(state.phase).toBe('signed-out');
    expect(state.guestsWelcome).toBe(true);
    expect(stateLabel(state.phase)).toBe('refused');
  });

  it('asks for a step-up before the pre-join screen when the check says so', () => {
    const state = run([
      {
        type: 'check.answered',
        check: { outcome: 'step_up', reason: null, meeting: preview, guestsWelcome: false },
      },
    ]);
    expect(state.phase).toBe('step-up');
    expect(state.stepUpFrom).toBe('check');
  });
});

describe('the meeting socket', () => {
  it('waits in the lobby, then joins with the roster on welcome', () => {
    const lobby = run([
      { type: 'connect' },
      message({ type: 'admission', outcome: 'lobby', reason: null, meeting: preview }),
    ]);
    expect(lobby.phase).toBe('lobby');
    const state = meetingReducer(lobby, welcome);
    expect(state.phase).toBe('joined');
    expect(state.self?.id).toBe(me.id);
    expect(state.roster.map((p) => p.id)).toEqual([me.id, jean.id]);
  });

  it('ends in step-up when the socket asks for it, remembering it came from the socket', () => {
    const state = run([
      { type: 'connect' },
      message({ type: 'admission', outcome: 'step_up', reason: null, meeting: preview }),
      { type: 'closed', code: MeetingCloseCode.stepUp },
    ]);
    expect(state.phase).toBe('step-up');
    expect(state.stepUpFrom).toBe('socket');
  });

  it('shows the refusal reason sent before the socket closed', () => {
    const state = run([
      { type: 'connect' },
      message({ type: 'admission', outcome: 'refuse', reason: 'locked', meeting: null }),
      { type: 'closed', code: MeetingCloseCode.refused },
    ]);
    expect(state.phase).toBe('refused');
    expect(state.reason).toBe('locked');
  });

  it('is denied when a host says no in the lobby', () => {
    const state = run([
      { type: 'connect' },
      message({ type: 'admission', outcome: 'lobby', reason: null, meeting: preview }),
      message({ type: 'denied' }),
      { type: 'closed', code: MeetingCloseCode.refused },
    ]);
    expect(state.phase).toBe('denied');
  });

  it('keeps who removed me, and forgets the roster', () => {
    const state = run(
      [message({ type: 'removed', by: 'Claire Martin' }), { type: 'closed', code: 4410 }],
      joined,
    );
    expect(state.phase).toBe('removed');
    expect(state.by).toBe('Claire Martin');
    expect(state.roster).toEqual([]);
  });

  it('knows the meeting ended from the close code alone', () => {
    expect(run([{ type: 'closed', code: MeetingCloseCode.ended }], joined).phase).toBe('ended');
  });

  it('reconnects after a drop, and gives up when told to', () => {
    const dropped = run([{ type: 'closed', code: 1006 }], joined);
    expect(dropped.phase).toBe('reconnecting');
    expect(dropped.retries).toBe(1);
    const again = run([{ type: 'connect' }, { type: 'closed', code: 1006 }], dropped);
    expect(again.retries).toBe(2);
    expect(run([{ type: 'gave-up' }], again).phase).toBe('disconnected');
    const back = run([{ type: 'connect' }, welcome], again);
    expect(back.phase).toBe('joined');
    expect(back.retries).toBe(0);
  });

  it('checks admission again when the session ended under it', () => {
    const state = run([{ type: 'closed', code: MeetingCloseCode.sessionEnded }], joined);
    expect(state.phase).toBe('checking');
    expect(state.checkRound).toBe(joined.checkRound + 1);
    expect(state.notice).toEqual({ kind: 'session-ended' });
  });

  it('ignores whatever arrives after leaving', () => {
    const left = run([{ type: 'leave' }], joined);
    expect(left.phase).toBe('left');
    expect(
      run([message({ type: 'roster', participants: [jean] }), { type: 'closed', code: 1006 }], left),
    ).toBe(left);
  });
});

describe('inside the meeting', () => {
  it('follows the roster, including my own promotion to host', () => {
    const guest = participant('33333333-3333-4333-8333-333333333333', 'Ana Guest', {
      guest: true,
      agentId: null,
    });
    const promoted = run([message({ type: 'roster', participants: [{ ...jean, host: true }, guest] })], {
      ...joined,
      self: jean,
    });
    expect(promoted.self?.host).toBe(true);
    expect(promoted.roster).toHaveLength(2);
  });

  it('keeps the lobby hosts see, and lists attempts newest first, at most fifty', () => {
    const entry = {
      id: '44444444-4444-4444-8444-444444444444',
      agentId: null,
      displayName: 'Paul Inconnu',
      unit: '',
      email: 'paul@example.org',
      guest: true,
      invited: false,
      removedBefore: true,
      since: '2026-03-12T09:05:00.000Z',
    };
    let state = run([message({ type: 'lobby', waiting: [entry] })], joined);
    expect(state.lobby).toEqual([entry]);
    for (let i = 0; i < MAX_ATTEMPTS_SHOWN + 5; i++)
      state = meetingReducer(
        state,
        message({
          type: 'attempt',
          who: `someone signed out (203.0.113.${i})`,
          person: { kind: 'signed_out', ip: `203.0.113.${i}` },
          outcome: 'refuse',
          reason: 'not_invited',
          at: preview.startsAt,
        }),
      );
    expect(state.attempts).toHaveLength(MAX_ATTEMPTS_SHOWN);
    expect(state.attempts[0]?.who).toEqual({ kind: 'signed_out', ip: `203.0.113.${MAX_ATTEMPTS_SHOWN + 4}` });
    expect(new Set(state.attempts.map((a) => a.key)).size).toBe(MAX_ATTEMPTS_SHOWN);
  });

  it('appends chat messages once each', () => {
    const chat = {
      id: '55555555-5555-4555-8555-555555555555',
      from: { participantId: jean.id, displayName: 'Jean Dupont', guest: false },
      text: '<b>not bold</b>',
      at: '2026-03-12T09:10:00.000Z',
    };
    const state = run(
      [message({ type: 'chat', message: chat }), message({ type: 'chat', message: chat })],
      joined,
    );
    expect(state.chat).toEqual([chat]);
  });

  it('turns my source off and says who muted me', () => {
    const state = run([message({ type: 'muted', source: 'microphone', by: 'Claire Martin' })], joined);
    expect(state.self?.audio).toBe(false);
    expect(state.notice).toEqual({ kind: 'muted', source: 'microphone', by: 'Claire Martin' });
    expect(run([{ type: 'notice.dismissed' }], state).notice).toBeNull();
  });

  it('follows the meeting when a host locks it or rotates its link', () => {
    const state = run(
      [message({ type: 'meeting', meeting: { ...view, locked: true, linkId: 'ZZZZZZZZZZZZZZZZZZZZZZ' } })],
      joined,
    );
    expect(state.meeting?.locked).toBe(true);
    expect(state.meeting?.linkId).toBe('ZZZZZZZZZZZZZZZZZZZZZZ');
  });

  it('keeps a signalling error to show, without leaving', () => {
    const state = run(
      [message({ type: 'error', code: 'forbidden', message: 'Only hosts can do this.' })],
      joined,
    );
    expect(state.phase).toBe('joined');
    expect(state.notice).toEqual({
      kind: 'signal-error',
      code: 'forbidden',
      message: 'Only hosts can do this.',
    });
  });
});

describe('presentation helpers', () => {
  it('labels every phase with one of the words tests read', () => {
    expect(stateLabel('connecting')).toBe('checking');
    expect(stateLabel('reconnecting')).toBe('checking');
    expect(stateLabel('joined')).toBe('joined');
    expect(stateLabel('step-up')).toBe('step-up');
  });

  it('puts me first, then hosts, then everyone by name', () => {
    const ana = participant('66666666-6666-4666-8666-666666666666', 'Ana Silva');
    const host = participant('77777777-7777-4777-8777-777777777777', 'Zoé Host', { host: true });
    expect(sortedRoster([jean, host, ana, me], me.id).map((p) => p.displayName)).toEqual([
      'Claire Martin',
      'Zoé Host',
      'Ana Silva',
      'Jean Dupont',
    ]);
  });

  it('makes initials for a placeholder tile', () => {
    expect(initials('Jean Dupont')).toBe('JD');
    expect(initials('Anne-Marie de la Tour')).toBe('AT');
    expect(initials('élodie')).toBe('É');
    expect(initials('  ')).toBe('');
  });
});
