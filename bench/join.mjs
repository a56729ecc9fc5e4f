#!/usr/bin/env node
/**
 * Join time: from the click on "Join" to the first remote video frame decoded, in Debian's
 * Chromium with a fake camera and microphone, against a real `rempart serve` on loopback.
 * A host is already in the meeting, sending; each run, an invitee opens the meeting page,
 * waits on the pre-join screen (camera ready), clicks, and the page itself timestamps the
 * click and the first frame its peer connections decode (`getStats` framesDecoded).
 *
 * Peer, same browser, same run: a direct peer-to-peer connection between two pages of the
 * same browser on loopback, set up the same way (offer and answer each sent once with every
 * ICE candidate), from creating the connection to the first decoded frame: the floor any
 * WebRTC join pays (ICE, DTLS, a keyframe). Runs are interleaved; medians are reported.
 *
 *   node bench/join.mjs [--runs 9]
 *
 * Exit status: 0 a clean run; 1 a join failed or the benchmark could not run; 2 bad usage or
 * the command is not built.
 */
/* global window, document, navigator, RTCPeerConnection -- code run in the pages */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { allowedCpus, releaseAll, releaseOnExit } from './lib/processes.mjs';
import { benchOptions } from './lib/report.mjs';
import { enrolledAgents, firstAdmin, scheduleMeeting, startRempart } from './lib/rempart.mjs';
import { histogram, latencySummary, median, table } from './lib/stats.mjs';

const CHROMIUM = process.env.REMPART_CHROMIUM ?? '/usr/bin/chromium';
const BUILT = ['../packages/cli/dist/main.js', '../packages/web/dist/index.html'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];
const USAGE = `Usage: node bench/join.mjs [--runs R]

  --runs R   joins measured for Rempart and for the direct peer-to-peer floor, interleaved (default 9)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

/**
 * Installed in every page before its own scripts: keeps each RTCPeerConnection it makes, and
 * gives the benchmark two helpers to call from `page.evaluate`.
 */
function installHelpers() {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config) {
      super(config);
      made.push(this);
    }
  };
  /** Resolves with the time the first remote video frame was decoded. */
  window.__firstFrame = (timeoutMs) =>
    new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      const poll = async () => {
        for (const pc of made) {
          if (pc.signalingState === 'closed') continue;
          for (const stat of (await pc.getStats()).values())
            if (stat.type === 'inbound-rtp' && stat.kind === 'video' && stat.framesDecoded > 0)
              return resolve(performance.now());
        }
        if (performance.now() > deadline) return reject(new Error('no remote frame decoded'));
        setTimeout(() => void poll(), 5);
      };
      void poll();
    });
  /** Resolves once the connection has every ICE candidate (no trickle, as Rempart's client). */
  window.__gathered = (pc) =>
    new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
}

async function stateOf(page) {
  return ((await page.getByTestId('meeting-state').textContent()) ?? '').trim();
}

async function waitState(page, label, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  while ((await stateOf(page).catch(() => '')) !== label) {
    if (performance.now() > deadline) throw new Error(`the page never reached “${label}”`);
    await page.waitForTimeout(50);
  }
}

/** One Rempart join: pre-join screen ready, then click → first remote frame, timed in the page. */
async function rempartJoin(context, url) {
  const page = await context.newPage();
  try {
    await page.addInitScript(installHelpers);
    await page.goto(url);
    await waitState(page, 'prejoin');
    await page.getByTestId('join').waitFor({ state: 'visible' });
    await page.waitForFunction(() => !document.querySelector('[data-testid="join"]')?.disabled);
    const [clicked, frame] = await page.evaluate(async () => {
      const t0 = performance.now();
      document.querySelector('[data-testid="join"]').click();
      return [t0, await window.__firstFrame(30_000)];
    });
    await page.getByTestId('leave').click();
    return frame - clicked;
  } finally {
    await page.close();
  }
}

/** One direct connection between two pages: receiver's offer, sender's answer, first frame. */
async function directJoin(context, origin) {
  const sender = await context.newPage();
  const receiver = await context.newPage();
  try {
    for (const page of [sender, receiver]) {
      await page.addInitScript(installHelpers);
      await page.goto(`${origin}/healthz`);
    }
    await sender.evaluate(async () => {
      window.__stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    });
    const offer = await receiver.evaluate(async () => {
      window.__t0 = performance.now();
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      window.__pc = pc;
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await window.__gathered(pc);
      return pc.localDescription.sdp;
    });
    const answer = await sender.evaluate(async (offer) => {
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      window.__pc = pc;
      for (const track of window.__stream.getTracks()) pc.addTrack(track, window.__stream);
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      await pc.setLocalDescription(await pc.createAnswer());
      await window.__gathered(pc);
      return pc.localDescription.sdp;
    }, offer);
    return await receiver.evaluate(async (answer) => {
      await window.__pc.setRemoteDescription({ type: 'answer', sdp: answer });
      return (await window.__firstFrame(30_000)) - window.__t0;
    }, answer);
  } finally {
    await sender.evaluate(() => window.__stream?.getTracks().forEach((t) => t.stop())).catch(() => {});
    await sender.close();
    await receiver.close();
  }
}

async function main() {
  let options;
  try {
    options = benchOptions(process.argv.slice(2), { runs: { type: 'string', default: '9' } });
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    console.error(`--runs must be an integer from 1 to 100\n\n${USAGE}`);
    return 2;
  }
  if (BUILT.some((file) => !existsSync(file))) {
    console.error('Not built: run `npm run build` (or `npm start` once) first.');
    return 2;
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium).`);
    return 2;
  }
  releaseOnExit();
  const cpus = allowedCpus();
  process.stdout.write('Starting rempart serve and enrolling a host and an invitee… ');
  const server = await startRempart({ cpu: cpus[0] });
  const host = await firstAdmin(server);
  const [invitee] = await enrolledAgents(host, 1);
  const meeting = await scheduleMeeting(host, [invitee]);
  console.log('done.');

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const contextFor = async (agent) => {
      const context = await browser.newContext({ locale: 'en-GB' });
      const [name, value] = agent.cookie.split('=');
      await context.addCookies([{ name, value, url: server.origin, httpOnly: true, sameSite: 'Strict' }]);
      return context;
    };
    const hostContext = await contextFor(host);
    const hostPage = await hostContext.newPage();
    await hostPage.goto(meeting.url);
    await waitState(hostPage, 'prejoin');
    await hostPage.getByTestId('join').click();
    await waitState(hostPage, 'joined');
    const inviteeContext = await contextFor(invitee);
    const direct = await browser.newContext();

    // One of each first, unmeasured: Chromium's first WebRTC call loads codecs and warms caches.
    await rempartJoin(inviteeContext, meeting.url);
    await directJoin(direct, server.origin);

    const rempart = [];
    const floor = [];
    for (let run = 1; run <= runs; run++) {
      rempart.push(await rempartJoin(inviteeContext, meeting.url));
      floor.push(await directJoin(direct, server.origin));
      console.log(
        `  run ${String(run).padStart(2)}/${runs}  Rempart ${rempart.at(-1).toFixed(0).padStart(5)} ms` +
          `   direct peer-to-peer ${floor.at(-1).toFixed(0).padStart(5)} ms`,
      );
    }

    const r = latencySummary(rempart);
    const f = latencySummary(floor);
    const ratio = median(rempart) / median(floor);
    console.log('\nClick on Join → first remote video frame decoded (loopback, Chromium, fake camera)\n');
    for (const line of table([
      ['', 'median', 'p90', 'min', 'max'],
      [
        'Rempart (admission, socket, SFU, E2EE)',
        `${r.p50Ms} ms`,
        `${r.p90Ms} ms`,
        `${r.minMs} ms`,
        `${r.maxMs} ms`,
      ],
      ['direct peer-to-peer (floor)', `${f.p50Ms} ms`, `${f.p90Ms} ms`, `${f.minMs} ms`, `${f.maxMs} ms`],
    ]))
      console.log(`  ${line}`);
    console.log(`\n  ratio Rempart / direct: ${ratio.toFixed(2)}\n\nRempart join times:`);
    for (const line of histogram(rempart, { buckets: 8, width: 30 })) console.log(line);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = `${RESULTS_DIR}join-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(
      file,
      JSON.stringify({ runs, rempart: r, direct: f, ratio, samples: { rempart, floor } }, null, 2),
    );
    console.log(`\nFigures: ${file}`);
  } finally {
    await browser.close();
  }
  return 0;
}

main()
  .then(
    (status) => status,
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      return 1;
    },
  )
  .then(async (status) => {
    await releaseAll();
    process.exit(status);
  });
