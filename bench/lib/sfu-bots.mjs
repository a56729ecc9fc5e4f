/**
 * The bots of one meeting, in their own process (bench/sfu.mjs starts it pinned to the CPU
 * the SFU does not use). Each bot joins as its own participant, publishes a camera and a
 * microphone, and subscribes to everyone else's, through the embedded engine (Rempart's
 * meeting socket) or Janus's VideoRoom. Driven over the IPC channel:
 *
 *   → { type: 'start', engine: 'rempart', bots: [{ cookie }], socketUrl, origin }
 *   → { type: 'start', engine: 'janus', bots: [{ name }], janusUrl, room }
 *   ← { type: 'progress', text } … { type: 'ready' }      every subscription delivers
 *   → { type: 'sample' }  ← { type: 'sample', video, audio, duplicates, bytes, sentVideo, … }
 *   → { type: 'stop' }    ← the process closes every connection and exits 0
 *
 * Any failure is reported as { type: 'error', message } and the process exits 1.
 */
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  completeAnswer,
  completeOffer,
  loopbackPeer,
  MediaSender,
  publishingPeer,
  ReceiveCounter,
  startSending,
} from './bots.mjs';
import { JanusSession } from './janus.mjs';

const READY_TIMEOUT_MS = 60_000;
const ANSWER_TIMEOUT_MS = 20_000;

const report = (message) => process.send?.(message);
const senders = [];
const counters = [];
const closers = [];
/** What each bot got to, for the message when a meeting does not come together. */
const states = [];
let stopSending = () => {};

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Follows a bot's two connections; `into` extends an existing record. */
function watchState(publisher, subscriber, into) {
  const state = into ?? { publisher: 'new', subscriber: 'new', offers: 0, answers: 0 };
  if (!into) states.push(state);
  publisher?.connectionStateChange.subscribe((s) => (state.publisher = s));
  subscriber?.connectionStateChange.subscribe((s) => (state.subscriber = s));
  return state;
}

function describe(state) {
  if (!state) return 'not started';
  return `publisher ${state.publisher}, subscriber ${state.subscriber}, subscribe offers ${state.offers} (answered ${state.answers})`;
}

// ------------------------------------------------------------- Rempart

/**
 * One participant on Rempart's meeting socket: waits for `welcome`, turns its camera and
 * microphone on, publishes, and answers every subscribe offer in order.
 */
async function rempartBot({ socketUrl, origin, cookie }, counter) {
  const socket = new WebSocket(socketUrl, { headers: { cookie, origin } });
  const publisher = publishingPeer();
  const subscriber = loopbackPeer();
  counter.watch(subscriber);
  const state = watchState(publisher.pc, subscriber);
  closers.push(() => {
    socket.close();
    void publisher.pc.close();
    void subscriber.close();
  });

  let meetingId;
  let failed;
  const failure = new Promise((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  let welcomed;
  const welcome = new Promise((resolve) => (welcomed = resolve));
  let answered;
  const publishAnswer = new Promise((resolve) => (answered = resolve));
  let negotiation = Promise.resolve();
  const send = (message) => socket.send(JSON.stringify({ ...message, meetingId }));

  socket.on('message', (data) => {
    const message = JSON.parse(data.toString('utf8'));
    switch (message.type) {
      case 'admission':
        if (message.outcome !== 'admit')
          failed(new Error(`admission: ${message.outcome} ${message.reason ?? ''}`));
        break;
      case 'welcome':
        meetingId = message.meeting.id;
        welcomed();
        break;
      case 'publish.answer':
        answered(message.sdp);
        break;
      case 'subscribe.offer':
        state.offers++;
        negotiation = negotiation.then(async () => {
          const sdp = await completeAnswer(subscriber, message.sdp);
          send({ type: 'subscribe.answer', sdp });
          state.answers++;
        });
        negotiation.catch((error) => failed(error));
        break;
      case 'error':
        failed(new Error(`signalling error ${message.code}: ${message.message}`));
        break;
      default:
        break;
    }
  });
  socket.on('close', (code, reason) => failed(new Error(`meeting socket closed: ${code} ${reason}`)));
  socket.on('error', (error) => failed(error));

  await Promise.race([withTimeout(welcome, ANSWER_TIMEOUT_MS, 'joining the meeting'), failure]);
  // The engine forwards only the sources a participant has turned on.
  send({ type: 'media.state', audio: true, video: true, screen: false });
  const sdp = await completeOffer(publisher.pc);
  const sources = { [publisher.audio.mid]: 'microphone', [publisher.video.mid]: 'camera' };
  send({ type: 'publish', sdp, sources });
  const answer = await Promise.race([
    withTimeout(publishAnswer, ANSWER_TIMEOUT_MS, 'the publish answer'),
    failure,
  ]);
  await publisher.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  senders.push(new MediaSender(publisher));
  return { failure };
}

// --------------------------------------------------------------- Janus

/** One participant in a VideoRoom: a session with a publisher handle (and later a subscriber). */
async function janusPublisher({ janusUrl, room }, name) {
  const session = await JanusSession.create(janusUrl);
  closers.push(() => void session.destroy());
  const handle = await session.attach();
  const joined = await session.request(handle, { request: 'join', ptype: 'publisher', room, display: name });
  const publisher = publishingPeer();
  closers.push(() => void publisher.pc.close());
  const state = watchState(publisher.pc);
  const offer = await completeOffer(publisher.pc);
  const { jsep } = await session.request(
    handle,
    { request: 'publish' },
    { type: 'offer', sdp: offer, trickle: false },
  );
  if (!jsep) throw new Error('janus answered the publish without an SDP');
  await publisher.pc.setRemoteDescription(jsep);
  senders.push(new MediaSender(publisher));
  // Janus refuses subscriptions to a publisher whose PeerConnection is not up yet ("No such feed").
  await session.webrtcUp(handle);
  return { session, feed: joined.data.id, state };
}

/** Subscribes, on one handle, to the camera and microphone of every feed in `feeds` (Janus ≥ 1.0). */
async function janusSubscriber({ room }, { session, state }, feeds, counter) {
  const handle = await session.attach();
  const subscriber = loopbackPeer();
  counter.watch(subscriber);
  watchState(undefined, subscriber, state);
  closers.push(() => void subscriber.close());
  const { jsep } = await session.request(handle, {
    request: 'join',
    ptype: 'subscriber',
    room,
    streams: feeds.map((feed) => ({ feed })),
  });
  if (!jsep) throw new Error('janus offered no SDP to a subscriber');
  state.offers++;
  const sdp = await completeAnswer(subscriber, jsep.sdp);
  state.answers++;
  await session.request(handle, { request: 'start' }, { type: 'answer', sdp, trickle: false });
}

// ---------------------------------------------------------------- main

async function start(plan) {
  const n = plan.bots.length;
  for (let i = 0; i < n; i++) counters.push(new ReceiveCounter());
  stopSending = startSending(senders);
  const failures = [];
  if (plan.engine === 'rempart') {
    for (const [i, bot] of plan.bots.entries()) {
      report({ type: 'progress', text: `bot ${i + 1}/${n} joining and publishing` });
      failures.push((await rempartBot({ ...plan, ...bot }, counters[i])).failure);
    }
  } else {
    const joined = [];
    for (const [i, bot] of plan.bots.entries()) {
      report({ type: 'progress', text: `bot ${i + 1}/${n} publishing` });
      joined.push(await janusPublisher(plan, bot.name));
    }
    for (const [i, bot] of joined.entries()) {
      report({ type: 'progress', text: `bot ${i + 1}/${n} subscribing` });
      const others = joined.filter((other) => other !== bot).map((other) => other.feed);
      await janusSubscriber(plan, bot, others, counters[i]);
    }
  }
  // Ready when every subscriber receives every other bot's camera and microphone.
  const expected = 2 * (n - 1);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // A bot that fails later (its socket closed, its connection failed) spoils the measure.
  const broken = Promise.race(failures);
  broken.catch((error) => {
    if (!stopping) fail(error);
  });
  for (;;) {
    const flowing = counters.reduce((sum, c) => sum + Math.min(c.flowingTracks, expected), 0);
    if (flowing === n * expected) break;
    if (Date.now() > deadline) {
      const each = counters.map(
        (c, i) => `\n  bot ${i + 1}: ${c.flowingTracks} tracks, ${describe(states[i])}`,
      );
      throw new Error(
        `after ${READY_TIMEOUT_MS / 1000} s, not every track delivers (${expected} each):${each.join('')}`,
      );
    }
    report({ type: 'progress', text: `${flowing}/${n * expected} tracks delivering` });
    await Promise.race([sleep(250), broken]);
  }
  report({ type: 'ready' });
}

function sample() {
  const sum = (pick) => counters.reduce((total, c) => total + pick(c), 0);
  return {
    type: 'sample',
    video: sum((c) => c.video),
    audio: sum((c) => c.audio),
    bytes: sum((c) => c.bytes),
    duplicates: sum((c) => c.duplicates),
    tracks: sum((c) => c.flowingTracks),
    sentVideo: senders.reduce((total, s) => total + s.sent.video, 0),
    sentAudio: senders.reduce((total, s) => total + s.sent.audio, 0),
    keyframeRequests: senders.reduce((total, s) => total + s.keyframeRequests, 0),
  };
}

let stopping = false;

function stop(status) {
  if (stopping) return;
  stopping = true;
  stopSending();
  for (const close of closers) {
    try {
      close();
    } catch {
      // Closing what is already closed.
    }
  }
  // Let the sockets say goodbye (the SFU then frees the participant), then go.
  setTimeout(() => process.exit(status), 300);
}

function fail(error) {
  report({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  stop(1);
}

process.on('message', (message) => {
  switch (message.type) {
    case 'start':
      start(message).catch(fail);
      break;
    case 'sample':
      report(sample());
      break;
    case 'stop':
      stop(0);
      break;
    default:
      fail(new Error(`unknown command ${message.type}`));
  }
});
process.on('disconnect', () => stop(0));
