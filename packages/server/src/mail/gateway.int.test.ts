/**
 * The mail gateway's generated configuration in Debian's real Dovecot 2.3 (Lua passdb) and Postfix
 * (submission, SASL through Dovecot), on loopback: every login reaches a small HTTP endpoint in this
 * file that answers as Rempart's `/api/mail/auth` does for two accounts, and the servers accept or
 * refuse as it says. The passdb's JSON code also runs in Debian's Lua 5.4 interpreter, the Lua
 * version Dovecot's plugin is built with, against JavaScript's JSON.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imapLogin, type MailServers, smtpLogin, startMailServers } from '../test-support/mail-servers.js';
import { dovecotLuaPassdb, luaString, MAIL_AUTH_PATH } from './gateway.js';

const LUA = '/usr/bin/lua5.4';
const TOKEN = 'mail-gateway-token-for-the-tests-0123456789';

/**
 * One Lua 5.4 process that applies a function of the generated passdb to each input it is sent:
 * a decimal length and a newline, then the bytes; the answer comes back framed the same way.
 */
class LuaLoop {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private stderr = '';
  private pending: { resolve: (answer: Buffer) => void; reject: (error: Error) => void }[] = [];

  constructor(chunk: string, fn: string) {
    // `lua -e` takes no text that starts with '-' (a comment here): the empty statement ';' first.
    const loop = `;${chunk}
local apply = ${fn}
while true do
  local size = io.read('l')
  if not size then break end
  local input = tonumber(size) == 0 and '' or io.read(tonumber(size))
  local ok, out = pcall(apply, input)
  out = ok and out or ('error: ' .. tostring(out))
  io.write(#out, '\\n', out)
  io.flush()
end
`;
    this.child = spawn(LUA, ['-e', loop]);
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.child.stdin.on('error', () => undefined);
    this.child.on('exit', (code) => {
      for (const { reject } of this.pending.splice(0))
        reject(new Error(`lua5.4 exited (${code}): ${this.stderr}`));
    });
    this.child.stdout.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      for (;;) {
        const newline = this.buffer.indexOf(0x0a);
        if (newline < 0) return;
        const size = Number(this.buffer.subarray(0, newline).toString());
        if (this.buffer.length < newline + 1 + size) return;
        const answer = this.buffer.subarray(newline + 1, newline + 1 + size);
        this.buffer = this.buffer.subarray(newline + 1 + size);
        this.pending.shift()?.resolve(answer);
      }
    });
  }

  call(input: string | Buffer): Promise<Buffer> {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error(`lua5.4 exited: ${this.stderr}`));
      this.pending.push({ resolve, reject });
      this.child.stdin.write(Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]));
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

describe("the passdb's JSON, run by Lua 5.4", () => {
  let encode: LuaLoop;
  let decode: LuaLoop;
  let evaluate: LuaLoop;

  beforeAll(() => {
    if (!existsSync(LUA))
      throw new Error(
        `Lua 5.4 missing (${LUA}): install the Debian package lua5.4 (sudo apt-get install lua5.4), ` +
          'or run `npm test` as root to have it done',
      );
    // The generated script as Dovecot loads it (nothing at its top level calls Dovecot), then a
    // loop that applies one of its local functions.
    const passdb = dovecotLuaPassdb({ rempartBase: 'https://rempart.example', token: TOKEN });
    encode = new LuaLoop(passdb, 'json_string');
    decode = new LuaLoop(passdb, 'function(text) return json_decode(text).user end');
    evaluate = new LuaLoop('', "function(source) return load('return ' .. source)() end");
  });

  afterAll(() => {
    for (const loop of [encode, decode, evaluate]) loop?.close();
  });

  // Code points, with the ones JSON escapes and the multi-byte ones often.
  const tricky = fc.constantFrom(
    '"',
    '\\',
    '/',
    '\0',
    '\b',
    '\n',
    '\r',
    '\u001f',
    '\u007f',
    'é',
    '\u2028',
    '🔑',
  );
  const text = fc.string({
    unit: fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
    maxLength: 40,
  });

  it('writes any text as a JSON string that JSON.parse reads back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (value) => {
        const json = await encode.call(value);
        expect(JSON.parse(json.toString('utf8'))).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the user of any JSON reply, escaped or not, whatever else the reply holds', async () => {
    // Every character outside ASCII as \uXXXX, surrogate pairs included (RFC 8259 §7).
    const asciiOnly = (json: string) =>
      json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    await fc.assert(
      fc.asyncProperty(
        text.filter((user) => user !== ''),
        fc.dictionary(fc.string(), fc.jsonValue()),
        async (user, extra) => {
          const reply = JSON.stringify({ ...extra, user }, null, 1);
          expect((await decode.call(reply)).toString('utf8')).toBe(user);
          expect((await decode.call(asciiOnly(reply))).toString('utf8')).toBe(user);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('embeds the address and token as Lua strings that read back byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (value) => {
        expect((await evaluate.call(luaString(value))).equals(Buffer.from(value, 'utf8'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// A stand-in for Rempart's endpoint: two accounts, and answers the tests switch to.

interface Account {
  password: string;
  token: string;
  canonical: string;
}

const ACCOUNTS: Record<string, Account> = {
  alice: {
    password: 'correct horse battery staple',
    token: 'ya29.alice-Access_Token~0123456789+/==',
    canonical: 'alice@interieur.gouv.fr',
  },
  bob: {
    // Quotes, backslashes, an IMAP literal's braces, accents, CJK and an astral-plane character.
    password: 'b"o\\b {3} «é» 日本 🔑',
    token: 'bob-token-0123456789',
    canonical: 'bob@interieur.gouv.fr',
  },
};

type Answer = 'rempart' | 'error' | 'hang' | 'throttle' | 'no-user';

interface Asked {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

let endpoint: Server;
let answer: Answer = 'rempart';
const asked: Asked[] = [];
const hanging: ServerResponse[] = [];
let servers: MailServers;

function respond(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

beforeAll(async () => {
  endpoint = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      asked.push({ method: request.method, url: request.url, headers: request.headers, body });
      if (request.headers.authorization !== `Bearer ${TOKEN}`)
        return respond(response, 401, { error: { code: 'mail_gateway_token_invalid', message: '' } });
      switch (answer) {
        case 'error':
          return respond(response, 500, { error: { code: 'internal_error', message: '' } });
        case 'hang':
          return void hanging.push(response);
        case 'throttle':
          return respond(response, 429, { error: { code: 'mail_auth_throttled', message: '' } });
        case 'no-user':
          return respond(response, 200, {});
        case 'rempart': {
          const account = ACCOUNTS[String(body.user)];
          const oauth = body.mechanism === 'OAUTHBEARER' || body.mechanism === 'XOAUTH2';
          if (account && body.password === (oauth ? account.token : account.password))
            return respond(response, 200, { user: account.canonical });
          return respond(response, 401, { error: { code: 'mail_auth_failed', message: '' } });
        }
      }
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const { port } = endpoint.address() as AddressInfo;
  servers = await startMailServers({
    rempartBase: `http://127.0.0.1:${port}`,
    token: TOKEN,
    timeoutMs: 1000,
  });
});

afterAll(async () => {
  await servers?.stop();
  for (const response of hanging.splice(0)) response.destroy();
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

beforeEach(() => {
  answer = 'rempart';
  asked.length = 0;
});

async function logShows(file: string, pattern: RegExp): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const line = text.split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > until) throw new Error(`no line matches ${pattern} in ${file}:\n${text.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('IMAP logins through Dovecot', () => {
  it("accepts the right password, after asking Rempart with the login's details", async () => {
    const login = await imapLogin(servers.imapPort, { user: 'alice', secret: ACCOUNTS.alice!.password });
    expect(login).toMatchObject({ accepted: true, reply: expect.stringMatching(/^a1 OK /) });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      method: 'POST',
      url: MAIL_AUTH_PATH,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'user-agent': 'Dovecot (Rempart mail gateway)',
        // Dovecot's HTTP client asks for 100 Continue before every body; Node answers it itself.
        expect: '100-continue',
      },
      body: {
        user: 'alice',
        password: ACCOUNTS.alice!.password,
        service: 'imap',
        // IMAP's LOGIN command goes through Dovecot's PLAIN mechanism.
        mechanism: 'PLAIN',
        remoteIp: '127.0.0.1',
        localIp: '127.0.0.1',
        session: expect.stringMatching(/^[A-Za-z0-9+/]{16}$/),
      },
    });
    // The mailbox opens under the name Rempart gave.
    const line = await logShows(
      servers.dovecotLog,
      /imap-login: Info: Login: user=<alice@interieur\.gouv\.fr>, method=PLAIN/,
    );
    expect(line).toContain(`session=<${String(asked[0]!.body.session)}>`);
  });

  it('refuses a wrong password as Dovecot refuses any, and logs the failure', async () => {
    const login = await imapLogin(servers.imapPort, { user: 'alice', secret: 'Tr0ub4dor&3' });
    expect(login).toMatchObject({
      accepted: false,
      reply: 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.',
    });
    expect(asked.map((a) => a.body.password)).toEqual(['Tr0ub4dor&3']);
    await logShows(
      servers.dovecotLog,
      /imap-login: .*\(auth failed, 1 attempts.*user=<alice>, method=PLAIN, rip=127\.0\.0\.1/,
    );
  });

  it('passes a password with quotes, backslashes and non-ASCII characters on intact, whatever the mechanism', async () => {
    const secret = ACCOUNTS.bob!.password;
    for (const mechanism of [undefined, 'PLAIN', 'LOGIN'] as const) {
      const login = await imapLogin(servers.imapPort, { user: 'bob', secret, mechanism });
      expect(login.accepted, `${mechanism ?? 'LOGIN command'}: ${login.reply}`).toBe(true);
    }
    expect(asked.map((a) => [a.body.password, a.body.mechanism])).toEqual([
      [secret, 'PLAIN'],
      [secret, 'PLAIN'],
      [secret, 'LOGIN'],
    ]);
  });

  it('refuses the login when Rempart throttles its source', async () => {
    answer = 'throttle';
    const login = await imapLogin(servers.imapPort, { user: 'alice', secret: ACCOUNTS.alice!.password });
    expect(login).toMatchObject({
      accepted: false,
      reply: 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.',
    });
  });

  it('never accepts a login that Rempart fails to answer, answers with an error or accepts without a name', async () => {
    for (const failing of ['error', 'no-user', 'hang'] as const) {
      answer = failing;
      const started = Date.now();
      const login = await imapLogin(servers.imapPort, { user: 'alice', secret: ACCOUNTS.alice!.password });
      expect(login, failing).toMatchObject({
        accepted: false,
        reply: expect.stringMatching(/^a1 NO \[UNAVAILABLE\]/),
      });
      // The passdb's limit is 1 s in these tests.
      expect(Date.now() - started, failing).toBeLessThan(3000);
    }
    expect(asked).toHaveLength(3);
  });

  it("passes an OAUTHBEARER or XOAUTH2 bearer token on as the password, with the client's user name", async () => {
    for (const mechanism of ['OAUTHBEARER', 'XOAUTH2'] as const) {
      const login = await imapLogin(servers.imapPort, {
        user: 'alice',
        secret: ACCOUNTS.alice!.token,
        mechanism,
      });
      expect(login.accepted, `${mechanism}: ${login.reply}`).toBe(true);
    }
    expect(asked.map((a) => a.body)).toEqual(
      ['OAUTHBEARER', 'XOAUTH2'].map((mechanism): unknown =>
        expect.objectContaining({
          user: 'alice',
          password: ACCOUNTS.alice!.token,
          mechanism,
          service: 'imap',
        }),
      ),
    );
    await logShows(
      servers.dovecotLog,
      /imap-login: Info: Login: user=<alice@interieur\.gouv\.fr>, method=XOAUTH2/,
    );
  });

  it('refuses a wrong bearer token with the error RFC 7628 describes', async () => {
    const login = await imapLogin(servers.imapPort, {
      user: 'alice',
      secret: ACCOUNTS.bob!.token,
      mechanism: 'OAUTHBEARER',
    });
    expect(login).toMatchObject({
      accepted: false,
      reply: 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.',
    });
    expect(JSON.parse(login.oauthError ?? '')).toEqual({ status: 'invalid_token' });
    expect(asked).toHaveLength(1);
  });

  it('refuses an OAUTHBEARER login without a user name before asking Rempart', async () => {
    const login = await imapLogin(servers.imapPort, {
      user: '',
      secret: ACCOUNTS.alice!.token,
      mechanism: 'OAUTHBEARER',
    });
    expect(login.accepted).toBe(false);
    expect(asked).toHaveLength(0);
  });
});

describe('SMTP submission through Postfix and Dovecot', () => {
  it('accepts AUTH PLAIN with the right password, asking Rempart for the smtp service', async () => {
    const login = await smtpLogin(servers.submissionPort, { user: 'bob', secret: ACCOUNTS.bob!.password });
    expect(login).toEqual({ accepted: true, reply: '235 2.7.0 Authentication successful' });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.body).toEqual({
      user: 'bob',
      password: ACCOUNTS.bob!.password,
      service: 'smtp',
      mechanism: 'PLAIN',
      remoteIp: '127.0.0.1',
      localIp: '127.0.0.1',
      // Postfix's SASL requests carry no session id.
      session: '',
    });
  });

  it('refuses AUTH PLAIN with a wrong password, and Postfix logs it', async () => {
    const login = await smtpLogin(servers.submissionPort, { user: 'bob', secret: 'guess' });
    expect(login.accepted).toBe(false);
    expect(login.reply).toMatch(/^535 5\.7\.8 /);
    await logShows(
      servers.postfixLog,
      /postfix\/submission\/smtpd\[\d+\]: warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: .*sasl_username=bob/,
    );
  });

  it('refuses AUTH when Rempart answers with an error', async () => {
    answer = 'error';
    const login = await smtpLogin(servers.submissionPort, { user: 'bob', secret: ACCOUNTS.bob!.password });
    // Dovecot reports the temporary failure (`FAIL … code=temp_fail`), but Postfix 3.7 reads no such
    // code and answers as for a wrong password rather than with 454 4.7.0.
    expect(login).toEqual({
      accepted: false,
      reply: '535 5.7.8 Error: authentication failed: (reason unavailable)',
    });
  });

  it('accepts XOAUTH2 and OAUTHBEARER with the right token and refuses a wrong one', async () => {
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      const good = await smtpLogin(servers.submissionPort, {
        user: 'alice',
        secret: ACCOUNTS.alice!.token,
        mechanism,
      });
      expect(good.accepted, `${mechanism}: ${good.reply}`).toBe(true);
      const bad = await smtpLogin(servers.submissionPort, {
        user: 'alice',
        secret: 'not-the-token',
        mechanism,
      });
      expect(bad.accepted, mechanism).toBe(false);
    }
    expect(asked.map((a) => [a.body.mechanism, a.body.service])).toEqual([
      ['XOAUTH2', 'smtp'],
      ['XOAUTH2', 'smtp'],
      ['OAUTHBEARER', 'smtp'],
      ['OAUTHBEARER', 'smtp'],
    ]);
  });
});
