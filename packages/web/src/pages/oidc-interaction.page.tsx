/**
 * An application's sign-in request (OpenID Connect): the provider sends the agent here with the
 * request's id. The page names the application and what it will receive, signs the agent in to
 * Rempart when needed, then completes the request and follows the provider back to the
 * application: by itself when the session is already complete (single sign-on), after a new
 * check of the second factor when the application wants a more recent one than the session's.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { describeScopes, mfaAgeNotice } from '../signon/wording';
import { SignInSteps } from './sign-in.page';

export function OidcInteractionPage({ uid }: { uid: string }) {
  const { t, language } = useI18n();
  const { state } = useSession();
  const details = useLoad(() => api.oidc.interaction(uid), [uid]);
  const completing = useAction();
  const cancelling = useAction();
  /** Set once the browser is on its way back to the application. */
  const [leaving, setLeaving] = useState<'signed-in' | 'declined'>();
  const started = useRef(false);
  const full = state?.authenticated === true && state.stage === 'full';
  const client = details.data?.client.name;

  // The provider answers where the browser goes next: the application, with a code or an error.
  const follow = (redirectTo: string, how: 'signed-in' | 'declined') => {
    setLeaving(how);
    window.location.assign(redirectTo);
  };

  const complete = async () => {
    const result = await completing.run(() => api.oidc.complete(uid));
    if (result.ok) follow(result.value.redirectTo, 'signed-in');
  };

  const cancel = async () => {
    completing.clearError();
    const result = await cancelling.run(() => api.oidc.abort(uid));
    if (result.ok) follow(result.value.redirectTo, 'declined');
  };

  // Single sign-on: a complete session goes on by itself, once (a refusal waits for the agent);
  // again after signing in anew, should the session end meanwhile. A step-up the application
  // demands is asked by the API client's prompt, then the call retried.
  useEffect(() => {
    if (!full) started.current = false;
    if (!full || details.data === undefined || started.current) return;
    started.current = true;
    void complete();
    // `complete` is a fresh closure each render; these say when the page may go on.
  }, [full, details.data]);

  const busy = completing.busy || cancelling.busy || leaving !== undefined;
  // Expired, or completed in another tab: nothing on this page can go on with it.
  const gone = [completing.error, cancelling.error].some(
    (error) => error instanceof ApiError && error.code === 'interaction_invalid',
  );

  if (details.data === undefined || client === undefined) {
    return (
      <Page title={t('signOn.title')}>
        {details.error === undefined ? (
          <StatusMessage message={t('app.loading')} />
        ) : (
          <>
            <ErrorMessage error={details.error} />
            <p className="muted">{t('signOn.expiredHint')}</p>
          </>
        )}
      </Page>
    );
  }

  const scopes = describeScopes(details.data.scopes, t);
  const notice = mfaAgeNotice(details.data.mfaMaxAge, client, t, language);
  const progress =
    leaving === 'declined'
      ? t('signOn.declining', { client })
      : completing.busy || leaving === 'signed-in'
        ? t('signOn.working', { client })
        : undefined;

  return (
    <Page title={t('signOn.title')} heading={t('signOn.heading', { client })}>
      <div className="narrow">
        <StatusMessage message={progress} />
        <ErrorMessage error={completing.error ?? cancelling.error} />

        <section className="card" aria-labelledby="sign-on-receives">
          <h2 id="sign-on-receives">{t('signOn.receives', { client })}</h2>
          <ul>
            {scopes.map((line) => (
              <li key={line.scope}>{line.text ?? <code>{line.scope}</code>}</li>
            ))}
          </ul>
          {notice === undefined ? null : <p className="muted">{notice}</p>}
          {full ? <p className="muted">{t('signOn.signedInAs', { name: state.agent.displayName })}</p> : null}
        </section>

        {full ? null : (
          <>
            <p className="lead">{t('signOn.signInFirst', { client })}</p>
            {/* Once complete, the session itself sets the page going (the effect above). */}
            <SignInSteps onDone={() => undefined} />
          </>
        )}

        {gone ? (
          <p className="muted">{t('signOn.expiredHint')}</p>
        ) : (
          <>
            <div className="actions">
              {full && completing.error !== undefined ? (
                <button
                  type="button"
                  className="button button-primary"
                  disabled={busy}
                  onClick={() => void complete()}
                >
                  {t('signOn.continue', { client })}
                </button>
              ) : null}
              <button
                type="button"
                className="button button-quiet"
                aria-describedby="sign-on-cancel-hint"
                disabled={busy}
                onClick={() => void cancel()}
              >
                {t('common.cancel')}
              </button>
            </div>
            <p id="sign-on-cancel-hint" className="field-hint">
              {t('signOn.cancelHint', { client })}
            </p>
          </>
        )}
      </div>
    </Page>
  );
}
