/**
 * Media bots for the SFU benchmarks: werift peer connections that use loopback only, an RTP
 * generator shaped like a 720p VP8 camera and an Opus microphone, and counters of the
 * packets a subscriber receives. No codec runs: payloads are filler behind real VP8 and
 * Opus headers, so an SFU sees the packet sizes, rates, frame boundaries and keyframes of a
 * real call while the bots spend their CPU on the transport only.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';
import { RTCPeerConnection, RtpHeader, RtpPacket, useOPUS, useVP8 } from 'werift';

export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 111;

/** What one bot sends: a 720p-like camera at 1.5 Mbps and a 20 ms Opus microphone. */
export const SHAPE = {
  videoBitsPerSecond: 1_500_000,
  framesPerSecond: 30,
  /** A keyframe every few seconds, and whenever an SFU relays a subscriber's request. */
  keyframeIntervalSeconds: 4,
  /** A keyframe is this many times an average frame (roughly what a real encoder does). */
  keyframeScale: 5,
  /** RTP payload bytes per video packet at most (room for SRTP, headers, TURN within 1200). */
  maxVideoPayload: 1100,
  audioPacketsPerSecond: 50,
  audioPayloadBytes: 100,
};

const VIDEO_CLOCK = 90_000;
const AUDIO_CLOCK = 48_000;
/** Keyframe requests closer together than this get one keyframe (a join burst asks N − 1 times). */
const KEYFRAME_REQUEST_GAP_MS = 300;
const TICK_MS = 5;

/** Average packets per second of each kind that one published camera and microphone produce. */
export function packetRates(shape = SHAPE) {
  const frames = framePlan(shape);
  const packets = frames.reduce((sum, bytes) => sum + Math.ceil(bytes / shape.maxVideoPayload), 0);
  return {
    video: (packets / frames.length) * shape.framesPerSecond,
    audio: shape.audioPacketsPerSecond,
  };
}

/** Frame sizes over one keyframe interval: one keyframe, then deltas, averaging the bitrate. */
function framePlan(shape) {
  const count = shape.framesPerSecond * shape.keyframeIntervalSeconds;
  const average = shape.videoBitsPerSecond / 8 / shape.framesPerSecond;
  const key = Math.round(average * shape.keyframeScale);
  const delta = Math.round((average * count - key) / (count - 1));
  return [key, ...Array.from({ length: count - 1 }, () => delta)];
}

// ------------------------------------------------------------------ peers

/**
 * A werift peer connection whose only ICE candidate is 127.0.0.1: no host address of the
 * machine's interfaces, no STUN server (werift's default config names a public one).
 */
export function loopbackPeer() {
  return new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // Binds the sockets to 127.0.0.1 too (werift binds to every address by default).
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    bundlePolicy: 'max-bundle',
    codecs: {
      audio: [useOPUS({ payloadType: AUDIO_PAYLOAD_TYPE })],
      video: [useVP8({ payloadType: VIDEO_PAYLOAD_TYPE })],
    },
  });
}

/** Resolves once every local candidate is in the description: the bots do not trickle. */
export async function gatheringComplete(pc, timeoutMs = 10_000) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off.unSubscribe();
      reject(new Error('ICE gathering did not complete'));
    }, timeoutMs);
    const off = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      off.unSubscribe();
      resolve();
    });
  });
}

/** Bytes of receive buffer asked for each bot socket (Linux caps it at net.core.rmem_max). */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Gives the peer's UDP sockets a large receive buffer, so that a burst arriving while a
 * bot's event loop is busy waits in the kernel instead of being dropped and counted
 * against the SFU. werift has no option for it: its sockets are reached through the ICE
 * transports.
 */
function roomyReceiveBuffers(pc) {
  for (const transport of pc.iceTransports) {
    for (const protocol of transport.connection?.protocols ?? []) {
      try {
        protocol.transport?.socket?.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch {
        // A socket already closed, or a limit the kernel refuses: the default stays.
      }
    }
  }
}

/** A publishing peer: one sendonly microphone and one sendonly camera, in that order. */
export function publishingPeer() {
  const pc = loopbackPeer();
  const audio = pc.addTransceiver('audio', { direction: 'sendonly' });
  const video = pc.addTransceiver('video', { direction: 'sendonly' });
  return { pc, audio, video };
}

/** Sets a local offer and waits for every candidate; the SDP to send. */
export async function completeOffer(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  roomyReceiveBuffers(pc);
  return pc.localDescription.sdp;
}

/** Applies a remote offer and returns the complete local answer. */
export async function completeAnswer(pc, offerSdp) {
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gatheringComplete(pc);
  roomyReceiveBuffers(pc);
  return pc.localDescription.sdp;
}

// --------------------------------------------------------------- receiving

/**
 * Counts the RTP packets a subscribing peer receives, by kind, and which of its tracks have
 * delivered anything (a subscriber is fully connected when every expected track has).
 * A packet whose sequence number was seen recently on its track is a duplicate (an SFU's
 * retransmission after a NACK, say) and is counted apart, so that the counts say how many
 * of the packets sent arrived.
 */
export class ReceiveCounter {
  video = 0;
  audio = 0;
  duplicates = 0;
  bytes = 0;
  flowingTracks = 0;

  watch(pc) {
    pc.onTrack.subscribe((track) => {
      // One flag per sequence number; the flag half the number space ahead is cleared as
      // packets come, so a flag means "seen in the last 32768 packets" (RFC 3550 §A.1 wraps).
      const seen = new Uint8Array(0x10000);
      let delivering = false;
      const kind = track.kind === 'video' ? 'video' : 'audio';
      track.onReceiveRtp.subscribe((rtp) => {
        const seq = rtp.header.sequenceNumber;
        seen[(seq + 0x8000) & 0xffff] = 0;
        if (seen[seq] === 1) {
          this.duplicates++;
          return;
        }
        seen[seq] = 1;
        this[kind]++;
        this.bytes += rtp.payload.length;
        if (!delivering) {
          delivering = true;
          this.flowingTracks++;
        }
      });
    });
  }
}

// ----------------------------------------------------------------- sending

/**
 * Sends one bot's camera and microphone on the transceivers of a publishing peer. Frames go
 * out as bursts of packets, as an encoder without a pacer sends them; the marker bit closes
 * each frame (RFC 7741 §4.1) and each source starts at a random phase so that the bots of a
 * meeting do not all burst at once.
 */
export class MediaSender {
  #frames = framePlan(SHAPE);
  #frameIndex = 0;
  #forceKeyframe = true;
  #lastKeyframeAt = -Infinity;
  #pictureId = randomInt(0x8000);
  #video = { seq: randomInt(0x10000), ts: randomInt(2 ** 32), next: 0 };
  #audio = { seq: randomInt(0x10000), ts: randomInt(2 ** 32), next: 0 };
  #filler = randomBytes(SHAPE.maxVideoPayload);
  #stopKeyframes;
  sent = { video: 0, audio: 0 };
  keyframeRequests = 0;

  constructor({ audio, video }) {
    this.audioSender = audio.sender;
    this.videoSender = video.sender;
    const now = performance.now();
    this.#video.next = now + Math.random() * (1000 / SHAPE.framesPerSecond);
    this.#audio.next = now + Math.random() * (1000 / SHAPE.audioPacketsPerSecond);
    const { unSubscribe } = this.videoSender.onPictureLossIndication.subscribe(() => {
      this.keyframeRequests++;
      this.#forceKeyframe = true;
    });
    this.#stopKeyframes = unSubscribe;
  }

  /** Sends whatever is due by `now` (milliseconds, performance clock). */
  tick(now) {
    const framePeriod = 1000 / SHAPE.framesPerSecond;
    while (this.#video.next <= now) {
      this.#sendFrame();
      this.#video.next += framePeriod;
      this.#video.ts = (this.#video.ts + VIDEO_CLOCK / SHAPE.framesPerSecond) >>> 0;
    }
    const audioPeriod = 1000 / SHAPE.audioPacketsPerSecond;
    while (this.#audio.next <= now) {
      this.#sendAudio();
      this.#audio.next += audioPeriod;
      this.#audio.ts = (this.#audio.ts + AUDIO_CLOCK / SHAPE.audioPacketsPerSecond) >>> 0;
    }
  }

  stop() {
    this.#stopKeyframes();
  }

  #sendFrame() {
    const now = performance.now();
    let key = this.#frameIndex % this.#frames.length === 0;
    if (this.#forceKeyframe && now - this.#lastKeyframeAt >= KEYFRAME_REQUEST_GAP_MS) {
      key = true;
      this.#frameIndex = 0;
    }
    if (key) {
      this.#forceKeyframe = false;
      this.#lastKeyframeAt = now;
    }
    const size = this.#frames[this.#frameIndex % this.#frames.length];
    this.#frameIndex++;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    const count = Math.ceil(size / SHAPE.maxVideoPayload);
    const each = Math.ceil(size / count);
    for (let i = 0; i < count; i++) {
      const payload = vp8Payload(i === 0, key, this.#pictureId, this.#filler.subarray(0, each));
      const marker = i === count - 1;
      this.#send(this.videoSender, this.#video, VIDEO_PAYLOAD_TYPE, marker, payload);
      this.sent.video++;
    }
  }

  #sendAudio() {
    // TOC byte: config 31 (CELT fullband, 20 ms), mono, one frame (RFC 6716 §3.1).
    const payload = Buffer.alloc(SHAPE.audioPayloadBytes, this.#filler);
    payload[0] = 0xf8;
    this.#send(this.audioSender, this.#audio, AUDIO_PAYLOAD_TYPE, false, payload);
    this.sent.audio++;
  }

  #send(sender, state, payloadType, marker, payload) {
    const header = new RtpHeader({
      payloadType,
      sequenceNumber: state.seq,
      timestamp: state.ts,
      marker,
    });
    state.seq = (state.seq + 1) & 0xffff;
    sender.sendRtp(new RtpPacket(header, payload)).catch(() => undefined);
  }
}

/**
 * A VP8 RTP payload (RFC 7741): the payload descriptor with a 15-bit PictureID as browsers
 * send it (§4.2), and on a frame's first packet the frame tag, plus for a keyframe the start
 * code and a 1280×720 size (RFC 6386 §9.1), then filler.
 */
function vp8Payload(first, key, pictureId, filler) {
  const descriptor = [0x80 | (first ? 0x10 : 0), 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff];
  let header = [];
  if (first) {
    // Frame tag: P = 0 for a keyframe, version 0, show_frame 1; the partition size is not checked.
    header = [key ? 0x10 : 0x11, 0x00, 0x00];
    if (key) header.push(0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02);
  }
  return Buffer.concat([Buffer.from([...descriptor, ...header]), filler]);
}

/** Drives every sender of a process from one timer. Returns a stop function. */
export function startSending(senders) {
  const timer = setInterval(() => {
    const now = performance.now();
    for (const sender of senders) sender.tick(now);
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    for (const sender of senders) sender.stop();
  };
}
