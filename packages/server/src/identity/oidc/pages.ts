/**
 * The few pages the OpenID provider itself renders: the sign-out confirmation a relying party
 * sends the agent to, the page after it, and errors that cannot go back to the application.
 * Everything else (signing in) is the console's. No script; the one style block is allowed by its
 * hash in the page's Content-Security-Policy.
 */
import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

const STYLE = [
  'body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0}',
  'main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0003}',
  'h1{font-size:1.3rem;margin-top:0}',
  'button{font:inherit;padding:.5rem 1rem;margin:.25rem .5rem 0 0;border-radius:4px;border:1px solid #1f4e8c;cursor:pointer}',
  'button[value=yes]{background:#1f4e8c;color:#fff}button:not([value=yes]){background:#fff;color:#1f4e8c}',
  'dl{font-size:.9rem}dt{font-weight:600}',
].join('');
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export function htmlEscape(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function page(ctx: KoaContextWithOIDC, title: string, body: string, formTargets: string[] = []): void {
  ctx.type = 'html';
  // The confirmation form posts here, then the provider redirects to the application: a browser
  // checks that redirect against form-action too.
  ctx.set(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `style-src ${STYLE_HASH}`,
      `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  );
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${htmlEscape(title)} · Rempart</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function clientName(ctx: KoaContextWithOIDC): string {
  const client = ctx.oidc.client;
  return client ? String(client.clientName ?? client.clientId) : 'an application';
}

/** The origin of every address this logout may end on, for the form-action directive. */
function logoutTargets(ctx: KoaContextWithOIDC): string[] {
  const uris = ctx.oidc.client?.postLogoutRedirectUris ?? [];
  return [...new Set(uris.flatMap((uri) => (URL.canParse(uri) ? [new URL(uri).origin] : [])))];
}

export function logoutPage(ctx: KoaContextWithOIDC, form: string): void {
  page(
    ctx,
    'Sign out',
    `<h1>Sign out of Rempart?</h1><p>${htmlEscape(clientName(ctx))} asks to sign you out. Signing out ends your Rempart session and your sessions in the other applications.</p>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button><button type="submit" form="op.logoutForm">Stay signed in</button>`,
    logoutTargets(ctx),
  );
}

export function signedOutPage(ctx: KoaContextWithOIDC): void {
  page(ctx, 'Signed out', `<h1>You are signed out</h1><p>You may close this window.</p>`);
}

/** An error the provider cannot send back to the application (unknown client, bad redirect address). */
export function errorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }): void {
  page(
    ctx,
    'Sign-in error',
    `<h1>This sign-in request cannot be completed</h1><dl><dt>error</dt><dd id="error">${htmlEscape(out.error)}</dd>${
      out.error_description ? `<dt>description</dt><dd>${htmlEscape(out.error_description)}</dd>` : ''
    }</dl><p>Go back to the application and try again, or tell your IT department.</p>`,
  );
}
