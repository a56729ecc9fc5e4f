/**
 * The Janus nodes of the Janus engine: one API session on each, a probe every few seconds, and
 * the placement of meetings. A meeting goes to the healthy node carrying the least (participants
 * and streams, as its rooms weigh themselves); a node that fails several probes in a row, or that
 * forgot our session (it restarted), is dead, and each of its rooms is moved away by its owner.
 * A dead node is probed still: when it answers again it takes new meetings.
 */
import type { Logger } from '../logger.js';
import { JanusError, JanusSession, SESSION_NOT_FOUND } from './janus-api.js';

export interface JanusNodeOptions {
  /** The node's HTTP API, e.g. `http://10.0.0.5:8088/janus` (a private address). */
  url: string;
}

export interface JanusNodesOptions<Room> {
  nodes: JanusNodeOptions[];
  apiSecret: string;
  log: Logger;
  probeIntervalMs: number;
  probeFailures: number;
  /** What a room weighs on its node. */
  load(room: Room): number;
  /** The room's node died: the room must go elsewhere. */
  moveAway(room: Room, from: JanusNode): void;
}

export class JanusNode {
  session: JanusSession | undefined;
  healthy = false;
  failures = 0;

  constructor(readonly url: string) {}

  /** The node's session; throws when the node is down. */
  liveSession(): JanusSession {
    if (!this.healthy || !this.session || this.session.isClosed)
      throw new Error(`the janus node ${this.url} is down`);
    return this.session;
  }
}

export class JanusNodes<Room> {
  private readonly nodes: JanusNode[];
  private readonly placed = new Map<Room, JanusNode>();
  private readonly firstProbe: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: JanusNodesOptions<Room>) {
    this.nodes = options.nodes.map(({ url }) => new JanusNode(url.replace(/\/+$/, '')));
    this.firstProbe = this.probeAll();
    void this.firstProbe.then(() => this.schedule());
  }

  /** Chooses the least-loaded healthy node for `room` (never `avoid`). */
  async place(room: Room, avoid: JanusNode | undefined): Promise<JanusNode> {
    await this.firstProbe;
    let best: { node: JanusNode; load: number; rooms: number } | undefined;
    for (const node of this.nodes) {
      if (!node.healthy || node === avoid) continue;
      let load = 0;
      let rooms = 0;
      for (const [other, on] of this.placed)
        if (on === node && other !== room) {
          load += this.options.load(other);
          rooms++;
        }
      if (!best || load < best.load || (load === best.load && rooms < best.rooms))
        best = { node, load, rooms };
    }
    if (!best) throw new Error('no janus node is reachable');
    this.placed.set(room, best.node);
    return best.node;
  }

  release(room: Room): void {
    this.placed.delete(room);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all(this.nodes.map((node) => node.session?.destroy() ?? Promise.resolve()));
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.probeAll().then(() => this.schedule());
    }, this.options.probeIntervalMs);
  }

  private async probeAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.probe(node)));
  }

  /** A keepalive on the node's session, or a new session when it has none. */
  private async probe(node: JanusNode): Promise<void> {
    const { log } = this.options;
    try {
      if (node.session && !node.session.isClosed) {
        await node.session.keepalive();
      } else {
        node.session = await JanusSession.create(node.url, this.options.apiSecret, log);
        if (this.closed) await node.session.destroy();
        else log.info({ node: node.url }, 'janus node up');
      }
      node.failures = 0;
      node.healthy = !this.closed;
    } catch (error) {
      if (this.closed) return;
      node.failures++;
      const forgotten = error instanceof JanusError && error.code === SESSION_NOT_FOUND;
      if (node.healthy && (forgotten || node.failures >= this.options.probeFailures))
        this.died(node, forgotten ? 'it lost our session' : `${node.failures} probes failed`);
      else if (!node.healthy) log.debug({ node: node.url, err: error }, 'janus node still down');
    }
  }

  private died(node: JanusNode, why: string): void {
    this.options.log.error({ node: node.url, why }, 'janus node dead');
    node.healthy = false;
    node.session?.close();
    node.session = undefined;
    for (const [room, on] of [...this.placed])
      if (on === node) {
        this.placed.delete(room);
        this.options.moveAway(room, node);
      }
  }
}
