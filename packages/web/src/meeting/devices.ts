/**
 * This browser's microphone, camera and screen share. A turned-off camera is released (its
 * light goes out); a turned-off microphone stays open but sends silence, so that unmuting is
 * instant. Nothing is asked of the browser before the pre-join screen.
 */

export type DeviceProblem = 'unavailable' | 'denied' | 'notFound' | 'inUse' | 'failed';

export interface LocalSnapshot {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
  micOn: boolean;
  cameraOn: boolean;
  /** Why a device could not be opened, the last time one was asked for. */
  problem: DeviceProblem | null;
  /** The first request for devices is under way (the browser may be asking for permission). */
  starting: boolean;
}

/** What went wrong, from a `getUserMedia` / `getDisplayMedia` failure (Media Capture §9.2 errors). */
export function deviceProblem(error: unknown): DeviceProblem {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'notFound';
    case 'NotReadableError':
    case 'AbortError':
      return 'inUse';
    default:
      return 'failed';
  }
}

const audioConstraints: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};
const videoConstraints: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30, max: 30 },
};

export interface LocalMediaEvents {
  changed(): void;
  /** The browser's own "stop sharing" ended the screen share. */
  screenEnded(): void;
}

export class LocalMedia {
  private snap: LocalSnapshot = {
    microphone: null,
    camera: null,
    screen: null,
    micOn: true,
    cameraOn: true,
    problem: null,
    starting: false,
  };
  private started = false;
  private closed = false;

  constructor(
    private readonly events: LocalMediaEvents,
    // Absent outside a secure context (plain HTTP to another host): the devices are then unavailable.
    private readonly devices: MediaDevices | undefined = typeof navigator === 'undefined'
      ? undefined
      : navigator.mediaDevices,
  ) {}

  get snapshot(): LocalSnapshot {
    return this.snap;
  }

  /** Opens the microphone and the camera, once; either may be missing or refused. */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    if (!this.devices) return this.update({ problem: 'unavailable', micOn: false, cameraOn: false });
    this.update({ starting: true });
    let microphone: MediaStreamTrack | null = null;
    let camera: MediaStreamTrack | null = null;
    let problem: DeviceProblem | null = null;
    try {
      // One request, so the browser asks for both permissions at once.
      const stream = await this.devices.getUserMedia({ audio: audioConstraints, video: videoConstraints });
      microphone = stream.getAudioTracks()[0] ?? null;
      camera = stream.getVideoTracks()[0] ?? null;
    } catch (error) {
      problem = deviceProblem(error);
      // A machine without a camera (or whose camera is busy) may still have a microphone.
      if (problem !== 'denied') {
        microphone = await this.open('audio').catch(() => null);
        camera = await this.open('video').catch(() => null);
      }
    }
    if (this.closed) {
      stopAll(microphone, camera);
      return;
    }
    if (microphone) microphone.enabled = this.snap.micOn;
    this.update({
      microphone,
      camera,
      micOn: this.snap.micOn && microphone !== null,
      cameraOn: this.snap.cameraOn && camera !== null,
      problem: microphone && camera ? null : problem,
      starting: false,
    });
    if (!this.snap.cameraOn) this.releaseCamera();
  }

  /** Turns the microphone on or off; returns its track (opened on first use). */
  async setMicrophone(on: boolean): Promise<MediaStreamTrack | null> {
    let microphone = this.snap.microphone;
    if (on && !microphone) {
      try {
        microphone = await this.open('audio');
      } catch (error) {
        this.update({ problem: deviceProblem(error), micOn: false });
        return null;
      }
      if (this.closed) return stopAll(microphone);
    }
    if (microphone) microphone.enabled = on;
    this.update({ microphone, micOn: on && microphone !== null, problem: on ? null : this.snap.problem });
    return microphone;
  }

  /** Turns the camera on (a new track) or off (released); returns the track now in use. */
  async setCamera(on: boolean): Promise<MediaStreamTrack | null> {
    if (!on) {
      this.releaseCamera();
      this.update({ cameraOn: false });
      return null;
    }
    if (this.snap.camera) {
      this.update({ cameraOn: true });
      return this.snap.camera;
    }
    try {
      const camera = await this.open('video');
      if (this.closed) return stopAll(camera);
      this.update({ camera, cameraOn: true, problem: null });
      return camera;
    } catch (error) {
      this.update({ problem: deviceProblem(error), cameraOn: false });
      return null;
    }
  }

  /** Asks the browser for a screen, window or tab to share; null when refused or cancelled. */
  async startScreen(): Promise<MediaStreamTrack | null> {
    if (!this.devices || typeof this.devices.getDisplayMedia !== 'function') {
      this.update({ problem: 'unavailable' });
      return null;
    }
    let stream: MediaStream;
    try {
      stream = await this.devices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: false,
      });
    } catch {
      // Cancelling the browser's picker is a choice, not a problem to report.
      return null;
    }
    const screen = stream.getVideoTracks()[0] ?? null;
    if (!screen || this.closed) return stopAll(screen);
    // Text and lines stay sharp at the cost of frame rate (W3C mst-content-hint §3.2).
    screen.contentHint = 'detail';
    screen.addEventListener('ended', () => {
      if (this.snap.screen !== screen) return;
      this.update({ screen: null });
      this.events.screenEnded();
    });
    this.snap.screen?.stop();
    this.update({ screen });
    return screen;
  }

  stopScreen(): void {
    const screen = this.snap.screen;
    if (!screen) return;
    screen.stop();
    this.update({ screen: null });
  }

  /** Releases every device. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    stopAll(this.snap.microphone, this.snap.camera, this.snap.screen);
    this.snap = { ...this.snap, microphone: null, camera: null, screen: null };
  }

  private async open(kind: 'audio' | 'video'): Promise<MediaStreamTrack> {
    if (!this.devices) throw Object.assign(new Error('no media devices'), { name: 'NotFoundError' });
    const stream = await this.devices.getUserMedia(
      kind === 'audio' ? { audio: audioConstraints } : { video: videoConstraints },
    );
    const track = (kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks())[0];
    if (!track) throw Object.assign(new Error(`no ${kind} track`), { name: 'NotFoundError' });
    return track;
  }

  private releaseCamera(): void {
    this.snap.camera?.stop();
    if (this.snap.camera) this.update({ camera: null });
  }

  private update(patch: Partial<LocalSnapshot>): void {
    if (this.closed) return;
    this.snap = { ...this.snap, ...patch };
    this.events.changed();
  }
}

function stopAll(...tracks: (MediaStreamTrack | null)[]): null {
  for (const track of tracks) track?.stop();
  return null;
}
