import { describe, expect, it } from 'vitest';
import { sdpProblem } from './sdp-check.js';

const kinds = { kinds: ['audio', 'video'] };
const offer = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=fingerprint:sha-256 AB:CD',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdefghijkl',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdefghijkl',
  '',
].join('\r\n');

describe('SDP sanity check', () => {
  it('accepts a browser-shaped description, fingerprint at session level', () => {
    expect(sdpProblem(offer, kinds)).toBeUndefined();
  });

  it('names what is missing', () => {
    expect(sdpProblem('hello', kinds)).toBe('it does not start with v=0');
    expect(sdpProblem('v=0\r\ns=-\r\n', kinds)).toBe('it has no media section');
    expect(sdpProblem(offer.replace('a=mid:1\r\n', ''), kinds)).toBe('media section 1 has no a=mid');
    expect(sdpProblem(offer.replace('a=fingerprint:sha-256 AB:CD\r\n', ''), kinds)).toBe(
      'media section 0 has no DTLS fingerprint',
    );
    expect(sdpProblem(offer.replaceAll('a=ice-pwd:0123456789abcdefghijkl\r\n', ''), kinds)).toBe(
      'media section 0 has no ICE credentials',
    );
    expect(sdpProblem(offer.replace('m=video 9', 'm=video nine'), kinds)).toBe(
      'media section 1 has a malformed m= line',
    );
  });

  it('refuses kinds it was not asked for, except in rejected sections', () => {
    const data = offer.replace(
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    );
    expect(sdpProblem(data, kinds)).toBe('media section 1 carries application, not audio or video');
    expect(sdpProblem(data.replace('m=application 9', 'm=application 0'), kinds)).toBeUndefined();
  });
});
