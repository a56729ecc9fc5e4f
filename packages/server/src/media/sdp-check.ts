/**
 * A sanity check of session descriptions from browsers before they reach a peer connection.
 * WebRTC stacks parse leniently and may fail late, or half-apply a description; checking the
 * shape first turns bad input into a clear message and leaves the connection untouched.
 */

/** What an SDP must contain for the engine to use it. */
export interface SdpExpectation {
  /** Media kinds allowed in m-sections (`audio`, `video`). */
  kinds: readonly string[];
}

const mLine = /^m=([a-z]+) (\d+) (\S+)(?: (.*))?$/;

/**
 * Says what is wrong with an SDP, or returns undefined when it looks usable: `v=0` first
 * (RFC 8866 §5), at least one m-section, and for each live m-section (port not 0) an allowed
 * kind, a `mid` (RFC 8843 §9.1), ICE credentials (RFC 8839 §5.4) and a DTLS fingerprint
 * (RFC 8122 §5), at media or session level.
 *
 * @example
 *   sdpProblem('hello', { kinds: ['audio', 'video'] }) // → 'it does not start with v=0'
 */
export function sdpProblem(sdp: string, expect: SdpExpectation): string | undefined {
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') return 'it does not start with v=0';
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([]);
    sections.at(-1)?.push(line);
  }
  const [session = [], ...media] = sections;
  if (media.length === 0) return 'it has no media section';
  const has = (section: string[], prefix: string) =>
    section.some((line) => line.startsWith(prefix)) || session.some((line) => line.startsWith(prefix));
  for (const [index, section] of media.entries()) {
    const match = mLine.exec(section[0] ?? '');
    if (!match) return `media section ${index} has a malformed m= line`;
    const [, kind = '', port = ''] = match;
    if (port === '0') continue;
    if (!expect.kinds.includes(kind))
      return `media section ${index} carries ${kind}, not ${expect.kinds.join(' or ')}`;
    if (!section.some((line) => line.startsWith('a=mid:'))) return `media section ${index} has no a=mid`;
    if (!has(section, 'a=ice-ufrag:') || !has(section, 'a=ice-pwd:'))
      return `media section ${index} has no ICE credentials`;
    if (!has(section, 'a=fingerprint:')) return `media section ${index} has no DTLS fingerprint`;
  }
  return undefined;
}
