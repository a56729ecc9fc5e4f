/**
 * What the SFU forwards is ciphertext. A participant with no MLS keys (a werift subscriber on the
 * real meeting socket) receives a Chromium page's camera as the engine forwards it; its VP8 frames
 * are reassembled from the RTP packets and handed to a WebCodecs `VideoDecoder` in Chromium. In an
 * end-to-end encrypted meeting none decodes; in a meeting with encryption turned off, the same
 * capture decodes, which shows that the capture and the decoder work and the difference is the
 * encryption. Run on every media engine (`engines.ts`).
 *
 * Then, once (it does not depend on the engine): sealed chat between Chromium pages, a newcomer
 * who sees the earlier message as sent before they joined, and the scheduling form that keeps
 * encryption on for a restricted meeting.
 */
import type { Meeting } from '@rempart/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_MAGIC } from '../packages/web/src/meeting/e2ee/frame';
import type { ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { engines, startWithHost } from './support/engines.js';
import { MeetingBot } from './support/meeting-bot.js';
import { expectState, joinMeeting, personPage } from './support/meeting-page.js';
import type { RunningRempart } from './support/server.js';

/** VP8 frames of a participant's camera as forwarded: from RTP packets, in sequence order. */
class FrameCapture {
  private readonly packets = new Map<number, { marker: boolean; payload: Buffer }>();

  add(sequence: number, marker: boolean, payload: Buffer): void {
    this.packets.set(sequence, { marker, payload });
  }

  /**
   * Complete frames, oldest first: each starts at a packet whose VP8 payload descriptor has S = 1
   * and partition 0 (RFC 7741 §4.2) and ends at the RTP marker bit, with no packet missing.
   */
  frames(): { keyframe: boolean; data: Buffer }[] {
    const sequences = [...this.packets.keys()].sort((a, b) => a - b);
    const frames: { keyframe: boolean; data: Buffer }[] = [];
    let parts: Buffer[] | undefined;
    let previous = -1;
    for (const sequence of sequences) {
      const packet = this.packets.get(sequence);
      if (!packet) continue;
      const { start, body } = vp8Payload(packet.payload);
      if (start) parts = [];
      else if (parts && sequence !== previous + 1) parts = undefined;
      previous = sequence;
      if (!parts) continue;
      parts.push(body);
      if (packet.marker) {
        const data = Buffer.concat(parts);
        // Frame tag, RFC 6386 §9.1: bit 0 clear on a keyframe.
        frames.push({ keyframe: ((data[0] ?? 1) & 1) === 0, data });
        parts = undefined;
      }
    }
    return frames;
  }
}

/** The VP8 payload descriptor (RFC 7741 §4.2) taken off: whether a frame starts here, and the rest. */
function vp8Payload(payload: Buffer): { start: boolean; body: Buffer } {
  const first = payload[0] ?? 0;
  let offset = 1;
  if (first & 0x80) {
    const extension = payload[1] ?? 0;
    offset++;
    if (extension & 0x80) offset += (payload[offset] ?? 0) & 0x80 ? 2 : 1;
    if (extension & 0x40) offset++;
    if (extension & 0x30) offset++;
  }
  return { start: (first & 0x10) !== 0 && (first & 0x07) === 0, body: payload.subarray(offset) };
}

interface Decoded {
  frames: number;
  error: string | undefined;
}

/** Decodes a keyframe and the frames after it with WebCodecs in the page. */
async function decodeInChromium(page: Page, frames: { keyframe: boolean; data: Buffer }[]): Promise<Decoded> {
  const encoded = frames.map((f) => ({ keyframe: f.keyframe, data: f.data.toString('base64') }));
  return page.evaluate(async (chunks) => {
    let decoded = 0;
    let failure: string | undefined;
    const decoder = new VideoDecoder({
      output: (frame) => {
        decoded++;
        frame.close();
      },
      error: (e) => {
        failure = e.message || String(e);
      },
    });
    decoder.configure({ codec: 'vp8' });
    chunks.forEach((chunk, i) => {
      if (decoder.state !== 'configured') return;
      const data = Uint8Array.from(atob(chunk.data), (c) => c.charCodeAt(0));
      decoder.decode(
        new EncodedVideoChunk({ type: chunk.keyframe ? 'key' : 'delta', timestamp: i * 33_333, data }),
      );
    });
    await decoder.flush().catch((e: unknown) => {
      failure ??= e instanceof Error ? e.message : String(e);
    });
    if (decoder.state !== 'closed') decoder.close();
    return { frames: decoded, error: failure };
  }, encoded);
}

describe.each(engines)('what the %s engine forwards', (engine) => {
  let rempart: RunningRempart;
  let host: ApiAgent;
  let tapAgent: ApiAgent;
  const browsers: Browser[] = [];
  const bots: MeetingBot[] = [];

  beforeAll(async () => {
    ({ rempart, host } = await startWithHost(engine));
    tapAgent = await host.invite({
      email: 'tap@interieur.gouv.fr',
      displayName: 'Écoute',
      unit: 'Cabinet du ministre',
      clearance: 'internal',
    });
  });

  afterAll(async () => {
    for (const bot of bots) bot.leave();
    for (const b of browsers.splice(0)) await b.close();
    await rempart?.stop();
  });

  /** Captures the host's camera as forwarded to a participant without keys, until keyframes came. */
  async function capture(
    e2ee: boolean,
  ): Promise<{ frames: { keyframe: boolean; data: Buffer }[]; page: Page }> {
    const now = Date.now();
    const { meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
      title: e2ee ? 'Chiffrée de bout en bout' : 'En clair',
      classification: 'internal',
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      invitees: { emails: [tapAgent.email], units: [] },
      options: { e2ee },
    });
    const page = await personPage(browsers, host);
    await joinMeeting(page, meeting.url);
    await expectState(page, 'joined');
    const state = page.getByTestId('e2ee-state');
    await expect
      .poll(() => state.getAttribute('data-state'), { timeout: 20_000 })
      .toBe(e2ee ? 'on' : 'clear');

    const tap = await MeetingBot.join(rempart.url, meeting.linkId, tapAgent, { keys: false, media: true });
    bots.push(tap);
    await expect.poll(() => tap.self?.id, { timeout: 20_000 }).toBeDefined();
    const capture = new FrameCapture();
    const hooked = new Set<unknown>();
    await expect
      .poll(
        () => {
          const subscriber = tap.subscriber;
          const camera = subscriber?.tracks.find((t) => t.source === 'camera');
          const transceiver = camera ? subscriber?.transceiver(camera.participantId, 'camera') : undefined;
          for (const track of transceiver?.receiver.tracks ?? []) {
            if (hooked.has(track)) continue;
            hooked.add(track);
            track.onReceiveRtp.subscribe((rtp) =>
              capture.add(rtp.header.sequenceNumber, rtp.header.marker, Buffer.from(rtp.payload)),
            );
          }
          if (camera) tap.requestKeyframe(camera.participantId);
          return capture.frames().filter((f) => f.keyframe).length >= 2;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(true);
    const frames = capture.frames();
    const first = frames.findIndex((f) => f.keyframe);
    return { frames: frames.slice(first, first + 30), page };
  }

  it('is ciphertext that does not decode in an end-to-end encrypted meeting, and decodes with encryption off', async () => {
    const sealed = await capture(true);
    // Every frame forwarded carries the encrypted-frame trailer (magic byte last).
    expect(sealed.frames.length).toBeGreaterThan(1);
    for (const frame of sealed.frames) expect(frame.data.at(-1)).toBe(FRAME_MAGIC);
    const fromCiphertext = await decodeInChromium(sealed.page, sealed.frames);

    const clear = await capture(false);
    for (const frame of clear.frames) expect(frame.data.at(-1)).not.toBe(FRAME_MAGIC);
    const fromClear = await decodeInChromium(clear.page, clear.frames);

    // The control: what the SFU forwards in clear is real VP8 that Chromium decodes.
    expect(fromClear.error).toBeUndefined();
    expect(fromClear.frames).toBeGreaterThan(0);
    // What it forwards of an end-to-end encrypted meeting decodes to nothing.
    expect(fromCiphertext.frames).toBe(0);
    expect(fromCiphertext.error).toBeDefined();
  });
});

describe('sealed chat and the encryption option in Chromium', () => {
  let rempart: RunningRempart;
  let host: ApiAgent;
  let invitee: ApiAgent;
  let latecomer: ApiAgent;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    ({ rempart, host } = await startWithHost('embedded'));
    invitee = await host.invite({
      email: 'jan.peeters@defensie.be',
      displayName: 'Jan Peeters',
      unit: 'Defensie',
      clearance: 'secret',
    });
    latecomer = await host.invite({
      email: 'sofia.rossi@interieur.gouv.fr',
      displayName: 'Sofia Rossi',
      unit: 'DNUM',
      clearance: 'internal',
    });
  });

  afterAll(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await rempart?.stop();
  });

  const chatLine = (page: Page, text: string) => page.getByTestId('chat-message').filter({ hasText: text });

  async function say(page: Page, text: string): Promise<void> {
    await page.getByTestId('chat-input').fill(text);
    await page.getByTestId('chat-input').press('Enter');
  }

  it('opens chat in the browsers present, and shows a newcomer earlier messages as sent before they joined', async () => {
    const now = Date.now();
    const { meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
      title: 'Point de situation',
      classification: 'internal',
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      invitees: { emails: [invitee.email, latecomer.email], units: [] },
    });
    const pages: Page[] = [];
    for (const agent of [host, invitee]) {
      const page = await personPage(browsers, agent);
      await joinMeeting(page, meeting.url);
      await expectState(page, 'joined');
      const state = page.getByTestId('e2ee-state');
      await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('on');
      pages.push(page);
    }
    const [hostPage, inviteePage] = pages as [Page, Page];
    await expect
      .poll(async () => (await hostPage.getByTestId('e2ee-state').getAttribute('data-epoch')) ?? '', {
        timeout: 20_000,
      })
      .toBe((await inviteePage.getByTestId('e2ee-state').getAttribute('data-epoch')) ?? 'none');
    await say(inviteePage, 'Le préfet arrive à 15 h.');
    await chatLine(hostPage, 'Le préfet arrive à 15 h.').waitFor({ timeout: 20_000 });

    const late = await personPage(browsers, latecomer);
    await joinMeeting(late, meeting.url);
    await expectState(late, 'joined');
    const sealed = late.locator('[data-testid="chat-message"] [data-sealed="before-join"]');
    await sealed.waitFor({ timeout: 20_000 });
    expect(await late.getByTestId('chat-message').count()).toBe(1);
    expect(await chatLine(late, 'préfet').count()).toBe(0);

    // Once she holds the new epoch's keys, what is said is hers to read.
    await expect
      .poll(() => late.getByTestId('e2ee-state').getAttribute('data-state'), { timeout: 20_000 })
      .toBe('on');
    await say(hostPage, 'Bienvenue, Sofia.');
    await chatLine(late, 'Bienvenue, Sofia.').waitFor({ timeout: 20_000 });
  });

  it('the scheduling form keeps encryption on, and says why, for a restricted meeting', async () => {
    const page = await personPage(browsers, host);
    await page.goto(`${rempart.url}/meetings`);
    const e2ee = page.getByLabel('End-to-end encryption');
    await page.getByLabel('Classification').selectOption('internal');
    expect(await e2ee.isChecked()).toBe(true);
    expect(await e2ee.isEnabled()).toBe(true);
    await e2ee.uncheck();
    await page.getByLabel('Classification').selectOption('restricted');
    expect(await e2ee.isChecked()).toBe(true);
    expect(await e2ee.isDisabled()).toBe(true);
    await page.getByText('Restricted and secret meetings are always end-to-end encrypted.').waitFor();
  });
});
