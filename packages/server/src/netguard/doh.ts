/**
 * DNS over HTTPS (RFC 8484), as plain values in and out: the route maps Fastify's request onto a
 * `DohRequest` and the `DohResponse` onto its reply, and does nothing else.
 *
 * - GET carries the query in the `dns` parameter, base64url without padding (RFC 8484 §4.1,
 *   §6); POST carries it as the body, of type application/dns-message (§4.1). Anything else is
 *   405, another body type 415, a missing or undecodable message 400.
 * - Clients should send ID 0 so that identical queries are identical URLs (§4.1); the answer
 *   carries the ID it was asked with, whatever it is.
 * - Every DNS answer is a 200, whatever its RCODE (§4.2.1), with a Cache-Control max-age equal to its
 *   smallest TTL (§5.1); errors (SERVFAIL, REFUSED…) are not to be cached.
 * - Accept is not checked: application/dns-message is the one format there is, and a server may
 *   answer in it whatever Accept says (RFC 9110 §12.5.1).
 *
 * @example
 *   app.get('/dns-query', async (req, reply) => {
 *     const res = await handleDohRequest(
 *       { method: req.method, dns: req.query.dns, contentType: req.headers['content-type'] },
 *       resolver,
 *       req.ip,
 *     );
 *     return reply.code(res.status).headers(res.headers).send(res.body);
 *   });
 */
import { RempartError } from '@rempart/core';
import { HEADER_SIZE, MAX_MESSAGE, Rcode, responseCode, smallestTtl } from './dns-wire.js';

export const DNS_MESSAGE = 'application/dns-message';

export interface DohRequest {
  method: string;
  /** The `dns` query parameter (GET); an array when it was given more than once. */
  dns?: string | readonly string[] | undefined;
  /** The Content-Type header (POST). */
  contentType?: string | undefined;
  accept?: string | undefined;
  /** The raw body (POST). */
  body?: Buffer | Uint8Array | undefined;
}

export interface DohResponse {
  status: number;
  headers: Record<string, string>;
  /** A DNS message, or a JSON error body (`{ error: { code, message } }`). */
  body: Buffer | string;
}

/** What DoH needs of the resolver. */
export interface DohResolver {
  resolve(query: Buffer, client: string, protocol: 'doh'): Promise<Buffer>;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function failure(error: RempartError, extra: Record<string, string> = {}): DohResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(error.toBody()),
  };
}

/** The DNS query of a DoH request, or the HTTP error to answer with. */
export function dohQuery(request: DohRequest): Buffer | DohResponse {
  const method = request.method.toUpperCase();
  let message: Buffer;
  if (method === 'GET') {
    const { dns } = request;
    if (typeof dns !== 'string' || dns === '')
      return failure(RempartError.badRequest('a GET needs one dns parameter holding the DNS query'));
    // RFC 8484 §6: base64url (RFC 4648 §5) without padding; a length of 4n+1 cannot be base64.
    if (!BASE64URL.test(dns) || dns.length % 4 === 1)
      return failure(RempartError.badRequest('the dns parameter must be base64url without padding'));
    message = Buffer.from(dns, 'base64url');
  } else if (method === 'POST') {
    const type = request.contentType?.split(';', 1)[0]?.trim().toLowerCase();
    if (type !== DNS_MESSAGE)
      return failure(
        new RempartError('unsupported_media_type', `a POST body must be ${DNS_MESSAGE}`, {
          details: { accepted: [DNS_MESSAGE] },
        }),
      );
    const { body } = request;
    if (!body || body.length === 0)
      return failure(RempartError.badRequest('the POST body holds no DNS query'));
    message = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  } else {
    return failure(
      new RempartError('method_not_allowed', 'DNS over HTTPS takes GET and POST (RFC 8484 §4.1)'),
      { allow: 'GET, POST' },
    );
  }
  if (message.length > MAX_MESSAGE)
    return failure(new RempartError('payload_too_large', `a DNS message is at most ${MAX_MESSAGE} bytes`));
  if (message.length < HEADER_SIZE)
    return failure(RempartError.badRequest('the DNS query is shorter than its header'));
  return message;
}

/** The Cache-Control of a DNS answer (RFC 8484 §5.1). */
export function dohCacheControl(answer: Buffer): string {
  const rcode = responseCode(answer);
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return 'no-store';
  return `max-age=${smallestTtl(answer) ?? 0}`;
}

/** Answers one DoH request. Never rejects: every failure is an HTTP error response. */
export async function handleDohRequest(
  request: DohRequest,
  resolver: DohResolver,
  client: string,
): Promise<DohResponse> {
  const query = dohQuery(request);
  if (!Buffer.isBuffer(query)) return query;
  let answer: Buffer;
  try {
    answer = await resolver.resolve(query, client, 'doh');
  } catch (error) {
    return failure(error instanceof RempartError ? error : RempartError.internal(error));
  }
  return {
    status: 200,
    headers: {
      'content-type': DNS_MESSAGE,
      'content-length': String(answer.length),
      'cache-control': dohCacheControl(answer),
    },
    body: answer,
  };
}
