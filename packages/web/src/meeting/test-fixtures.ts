/**
 * One meeting as the server describes it, shared by the meeting client's unit tests: its
 * preview, its view, a participant, and the `welcome` that lets someone in.
 */
import type { IceServer, MeetingView, Participant } from '@rempart/core';

export const meetingId = '3d5f2a9e-8b7c-4d6e-9f10-a1b2c3d4e5f6';
export const linkId = 'AbCdEfGhIjKlMnOpQrStUv';
export const selfId = '11111111-1111-4111-8111-111111111111';

export const preview = {
  linkId,
  title: 'Crisis cell',
  classification: 'restricted' as const,
  startsAt: '2026-03-12T09:00:00.000Z',
  endsAt: '2026-03-12T10:00:00.000Z',
};

export function meetingView(link = linkId): MeetingView {
  return {
    id: meetingId,
    linkId: link,
    url: `https://rempart.example/m/${link}`,
    title: preview.title,
    classification: preview.classification,
    startsAt: preview.startsAt,
    endsAt: preview.endsAt,
    options: { lobby: true, guests: false, e2ee: true },
    locked: false,
  };
}

/** An agent in the meeting, unit DGSI, email made from the name; `extra` overrides. */
export function participant(id: string, name: string, extra: Partial<Participant> = {}): Participant {
  return {
    id,
    agentId: id,
    displayName: name,
    unit: 'DGSI',
    email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.org`,
    guest: false,
    host: false,
    invited: true,
    mfaAt: '2026-03-12T08:41:00.000Z',
    joinedAt: '2026-03-12T09:01:00.000Z',
    audio: true,
    video: true,
    screen: false,
    hand: false,
    ...extra,
  };
}

/** Claire Martin, host, with nothing on yet: the person the client tests join as. */
export const self = participant(selfId, 'Claire Martin', { host: true, audio: false, video: false });

export function welcome({
  link = linkId,
  roster = [self],
  iceServers = [],
}: { link?: string; roster?: Participant[]; iceServers?: IceServer[] } = {}) {
  return {
    type: 'welcome' as const,
    self,
    meeting: meetingView(link),
    roster,
    chat: [],
    iceServers,
    resume: 'resume-token-1',
    resumed: false,
  };
}
