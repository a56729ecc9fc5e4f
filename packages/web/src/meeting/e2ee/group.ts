/**
 * Media keys agreed between the participants' browsers with MLS (RFC 9420, through ts-mls).
 * The server relays the MLS messages and learns nothing from them.
 *
 * Trust model. End-to-end encryption keeps media away from the media path: the SFU and
 * whatever records or taps it only ever hold ciphertext, and no server holds a media key.
 * It does not make the signalling server irrelevant: the server vouches for who each
 * participant is (the credential in a KeyPackage is checked against the participant id the
 * server says it came from). A malicious server could therefore bring in a ghost member. It
 * would show: every member of the MLS group is a participant on the roster, with their
 * verified identity badge, and every client shows the E2EE state and a safety code taken
 * from the epoch authenticator (RFC 9420 §8.7), the same on every screen of one epoch, that
 * participants can compare aloud. A member who is removed or leaves cannot decrypt what is
 * sent after the commit that removed them (RFC 9420 §16.7, post-compromise security of the
 * new epoch); a newcomer cannot decrypt what was sent before they were added.
 *
 * Who commits: the participant who has been present longest (earliest `joinedAt`, then id),
 * a rule every client applies to the same roster, so there is one committer at a time and
 * commits need no arbitration. The committer reconciles the group with the roster: one commit
 * removes everyone who left and adds everyone who sent a KeyPackage, so each change of
 * membership is one new epoch (O(log N) work, RFC 9420 §7). The server relays messages in
 * order, so everyone applies commits in the committer's order. A client that cannot apply a
 * commit (it missed one) drops its state and sends a fresh KeyPackage; the committer
 * then replaces its old leaf. A committer without a group (everyone older left before it was
 * added) starts a new one, and the others accept its Welcome.
 */
import {
  acceptAll,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  mlsExporter,
  processMessage,
  type CiphersuiteImpl,
  type ClientState,
  type Credential,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
} from 'ts-mls';

/** X25519, AES-128-GCM, SHA-256, Ed25519: all in WebCrypto, nothing else to load. */
export const MLS_CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
/** RFC 9420 §8.5 exporter label for the per-sender media keys. */
export const MEDIA_KEY_LABEL = 'rempart media frame key';
/** Its own label for the per-sender chat keys: a chat key and a media key never coincide. */
export const CHAT_KEY_LABEL = 'rempart chat message key';
export const MEDIA_KEY_BYTES = 16;
export const CHAT_KEY_BYTES = 16;

export type GroupMessage =
  | { type: 'e2ee.keypackage'; data: string }
  | { type: 'e2ee.commit'; data: string; welcome: { data: string; to: string[] } | null };

export type RelayedMessage =
  | { type: 'e2ee.keypackage'; from: string; data: string }
  | { type: 'e2ee.commit'; from: string; data: string }
  | { type: 'e2ee.welcome'; from: string; data: string };

export interface RosterEntry {
  id: string;
  joinedAt: string;
}

/** Everything the frame transforms need for one epoch. */
export interface EpochKeys {
  epoch: number;
  ownLeaf: number;
  /** Raw 16-byte media key of each member's leaf. */
  keys: Map<number, Uint8Array>;
  /** Raw 16-byte chat key of each member's leaf. */
  chatKeys: Map<number, Uint8Array>;
  /** Participant id of each leaf. */
  members: Map<number, string>;
  /** Short code from the epoch authenticator, the same on every member's screen. */
  safetyCode: string;
}

export interface GroupEvents {
  send(message: GroupMessage): void;
  keys(keys: EpochKeys): void;
  failed(error: unknown): void;
}

/** The committer: the longest-present participant (ties broken by id). */
export function committerOf(roster: readonly RosterEntry[]): string | undefined {
  let best: RosterEntry | undefined;
  for (const p of roster)
    if (!best || p.joinedAt < best.joinedAt || (p.joinedAt === best.joinedAt && p.id < best.id)) best = p;
  return best?.id;
}

/** Per-sender media key of one epoch: MLS-Exporter(label, leaf index, 16) (RFC 9420 §8.5). */
export function mediaKeyFor(
  exporterSecret: Uint8Array,
  leaf: number,
  cs: CiphersuiteImpl,
): Promise<Uint8Array> {
  return senderKey(exporterSecret, MEDIA_KEY_LABEL, leaf, MEDIA_KEY_BYTES, cs);
}

/** Per-sender chat key of one epoch, exported like the media key under the chat label. */
export function chatKeyFor(
  exporterSecret: Uint8Array,
  leaf: number,
  cs: CiphersuiteImpl,
): Promise<Uint8Array> {
  return senderKey(exporterSecret, CHAT_KEY_LABEL, leaf, CHAT_KEY_BYTES, cs);
}

function senderKey(
  exporterSecret: Uint8Array,
  label: string,
  leaf: number,
  bytes: number,
  cs: CiphersuiteImpl,
): Promise<Uint8Array> {
  const context = new Uint8Array([leaf >> 8, leaf & 0xff]);
  return mlsExporter(exporterSecret, label, context, bytes, cs);
}

/** Twelve digits in three groups from the epoch authenticator. */
export function safetyCode(authenticator: Uint8Array): string {
  let n = 0n;
  for (const byte of authenticator.subarray(0, 8)) n = (n << 8n) | BigInt(byte);
  const digits = (n % 10n ** 12n).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The participant id a basic credential names (other credential types are not used here). */
function identityOf(credential: Credential): string | undefined {
  return credential.credentialType === 'basic' ? decoder.decode(credential.identity) : undefined;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

interface OwnPackage {
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
}

/**
 * How long the committer gathers membership changes into one commit: short against a person's
 * patience, long enough for a burst of joins (a meeting's start) to become a few epochs.
 */
export const COMMIT_BATCH_MS = 300;

/** Key packages kept for a Welcome that may still be on its way. */
const KEPT_PACKAGES = 3;

export class MediaKeyGroup {
  private cs: CiphersuiteImpl | undefined;
  private state: ClientState | undefined;
  private own: OwnPackage[] = [];
  /** The latest KeyPackage each other participant sent (kept: a new group may need it again). */
  private readonly known = new Map<string, KeyPackage>();
  /** Members who sent a new KeyPackage: they lost step, and their leaf is to be replaced. */
  private readonly fresh = new Set<string>();
  private roster: readonly RosterEntry[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private commitTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `commitDelayMs`: how long the committer gathers changes before committing them together
   * (0: at once, as unit tests do to stay deterministic).
   */
  constructor(
    private readonly selfId: string,
    private readonly meetingId: string,
    private readonly events: GroupEvents,
    private readonly commitDelayMs = COMMIT_BATCH_MS,
  ) {}

  /** Prepares the ciphersuite and announces this participant's KeyPackage. */
  start(): Promise<void> {
    return this.run(async () => {
      this.cs = await getCiphersuiteImpl(getCiphersuiteFromName(MLS_CIPHERSUITE));
      await this.announce();
      await this.reconcile();
    });
  }

  /** The roster changed: the committer brings the group in line with it. */
  setRoster(roster: readonly RosterEntry[]): Promise<void> {
    this.roster = roster.map((p) => ({ id: p.id, joinedAt: p.joinedAt }));
    const present = new Set(this.roster.map((p) => p.id));
    for (const id of this.known.keys()) if (!present.has(id)) this.known.delete(id);
    return this.run(() => this.reconcile());
  }

  receive(message: RelayedMessage): Promise<void> {
    return this.run(async () => {
      switch (message.type) {
        case 'e2ee.keypackage':
          this.onKeyPackage(message.from, message.data);
          break;
        case 'e2ee.commit':
          await this.onCommit(message.data);
          break;
        case 'e2ee.welcome':
          await this.onWelcome(message.data);
          break;
      }
      await this.reconcile();
    });
  }

  /** Settles once every MLS message received so far has been dealt with. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Current epoch, or undefined before this participant is in a group. */
  get epoch(): number | undefined {
    return this.state ? Number(this.state.groupContext.epoch) : undefined;
  }

  /** Participant ids of the group's members, by leaf. */
  members(): Map<number, string> {
    return this.state ? this.membersOf(this.state) : new Map<number, string>();
  }

  private membersOf(state: ClientState): Map<number, string> {
    const members = new Map<number, string>();
    const tree = state.ratchetTree;
    for (let i = 0; i < tree.length; i += 2) {
      const node = tree[i];
      const id = node?.nodeType === 'leaf' ? identityOf(node.leaf.credential) : undefined;
      if (id !== undefined) members.set(i / 2, id);
    }
    return members;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.state = undefined;
    this.own = [];
    this.known.clear();
    this.fresh.clear();
  }

  // ------------------------------------------------------------------ internals

  private run(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (error) {
        if (!this.closed) this.events.failed(error);
      }
    });
    this.chain = next;
    return next;
  }

  private suite(): CiphersuiteImpl {
    if (!this.cs) throw new Error('MLS is not ready');
    return this.cs;
  }

  private async announce(): Promise<void> {
    const credential = { credentialType: 'basic' as const, identity: encoder.encode(this.selfId) };
    const pkg = await generateKeyPackage(
      credential,
      defaultCapabilities(),
      defaultLifetime,
      [],
      this.suite(),
    );
    this.own = [pkg, ...this.own].slice(0, KEPT_PACKAGES);
    const data = encodeMlsMessage({
      keyPackage: pkg.publicPackage,
      wireformat: 'mls_key_package',
      version: 'mls10',
    });
    this.events.send({ type: 'e2ee.keypackage', data: toBase64(data) });
  }

  private onKeyPackage(from: string, data: string): void {
    const message = decodeMlsMessage(fromBase64(data), 0)?.[0];
    if (message?.wireformat !== 'mls_key_package') return;
    // The server says who sent it; a KeyPackage claiming someone else is refused.
    if (identityOf(message.keyPackage.leafNode.credential) !== from) return;
    this.known.set(from, message.keyPackage);
    if ([...this.members().values()].includes(from)) this.fresh.add(from);
  }

  private async onCommit(data: string): Promise<void> {
    const state = this.state;
    if (!state) return;
    const message = decodeMlsMessage(fromBase64(data), 0)?.[0];
    if (message?.wireformat !== 'mls_private_message' && message?.wireformat !== 'mls_public_message') return;
    let result;
    try {
      result = await processMessage(message, state, emptyPskIndex, acceptAll, this.suite());
    } catch {
      // Out of step with the group (a commit was missed): start over with a fresh KeyPackage.
      this.state = undefined;
      await this.announce();
      return;
    }
    if (result.kind !== 'newState') return;
    if (result.newState.groupActiveState.kind !== 'active') {
      this.state = undefined;
      if (this.roster.some((p) => p.id === this.selfId)) await this.announce();
      return;
    }
    this.state = result.newState;
    // The committer has dealt with whoever had lost step.
    this.fresh.clear();
    await this.publishKeys();
  }

  private async onWelcome(data: string): Promise<void> {
    const message = decodeMlsMessage(fromBase64(data), 0)?.[0];
    if (message?.wireformat !== 'mls_welcome') return;
    for (const pkg of this.own) {
      try {
        this.state = await joinGroup(
          message.welcome,
          pkg.publicPackage,
          pkg.privatePackage,
          emptyPskIndex,
          this.suite(),
        );
      } catch {
        continue;
      }
      this.fresh.clear();
      await this.publishKeys();
      return;
    }
  }

  private async reconcile(): Promise<void> {
    if (!this.cs || committerOf(this.roster) !== this.selfId) return;
    if (!this.state) {
      const pkg = this.own[0];
      if (!pkg) return;
      const groupId = encoder.encode(`${this.meetingId}/${crypto.randomUUID()}`);
      this.state = await createGroup(groupId, pkg.publicPackage, pkg.privatePackage, [], this.cs);
      await this.publishKeys();
    }
    if (this.changes(this.state).proposals.length === 0) return;
    if (this.commitDelayMs === 0) return this.commit();
    // Changes arriving together (a burst of joins) wait for one commit: every commit costs each
    // member one processing, so one per arrival would cost a meeting of N people O(N²).
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined;
      void this.run(() => this.commit());
    }, this.commitDelayMs);
  }

  /** One commit that brings the group in line with the roster: removes, replacements and adds. */
  private async commit(): Promise<void> {
    if (!this.cs || !this.state || committerOf(this.roster) !== this.selfId) return;
    const { proposals, added } = this.changes(this.state);
    this.fresh.clear();
    if (proposals.length === 0) return;
    const result = await createCommit(
      { state: this.state, cipherSuite: this.cs },
      { extraProposals: proposals, ratchetTreeExtension: true },
    );
    this.state = result.newState;
    const welcome = result.welcome
      ? toBase64(encodeMlsMessage({ welcome: result.welcome, wireformat: 'mls_welcome', version: 'mls10' }))
      : null;
    this.events.send({
      type: 'e2ee.commit',
      data: toBase64(encodeMlsMessage(result.commit)),
      welcome: welcome && added.length > 0 ? { data: welcome, to: added } : null,
    });
    await this.publishKeys();
  }

  /** What the group lacks against the roster: proposals, and who they add. */
  private changes(state: ClientState): { proposals: Proposal[]; added: string[] } {
    const present = new Set(this.roster.map((p) => p.id));
    const members = this.membersOf(state);
    const inGroup = new Set(members.values());
    const proposals: Proposal[] = [];
    const added: string[] = [];
    for (const [leaf, id] of members) {
      if (id === this.selfId) continue;
      // Gone, or back with a fresh KeyPackage after losing step: the old leaf goes.
      if (!present.has(id) || this.fresh.has(id))
        proposals.push({ proposalType: 'remove', remove: { removed: leaf } });
    }
    for (const [id, keyPackage] of this.known) {
      if (id === this.selfId || !present.has(id) || (inGroup.has(id) && !this.fresh.has(id))) continue;
      proposals.push({ proposalType: 'add', add: { keyPackage } });
      added.push(id);
    }
    return { proposals, added };
  }

  private async publishKeys(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const members = this.members();
    const keys = new Map<number, Uint8Array>();
    const chatKeys = new Map<number, Uint8Array>();
    const { exporterSecret } = state.keySchedule;
    let ownLeaf = -1;
    for (const [leaf, id] of members) {
      keys.set(leaf, await mediaKeyFor(exporterSecret, leaf, this.suite()));
      chatKeys.set(leaf, await chatKeyFor(exporterSecret, leaf, this.suite()));
      if (id === this.selfId) ownLeaf = leaf;
    }
    this.events.keys({
      epoch: Number(state.groupContext.epoch),
      ownLeaf,
      keys,
      chatKeys,
      members,
      safetyCode: safetyCode(state.keySchedule.epochAuthenticator),
    });
  }
}
