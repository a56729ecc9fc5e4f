/**
 * Enrolment of the first second factor. Until it is done the session can do nothing else, so
 * this page is all the console shows (besides signing out).
 */
import { useState } from 'react';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { RecoveryCodes } from '../components/recovery-codes';
import { TotpSetup, type Enrolled } from '../components/totp-setup';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { takeReturnPath } from '../return-path';
import { Redirect, navigate } from '../router';
import { useSession } from '../session';
import { registerPasskey } from '../webauthn';

export function EnrolPage() {
  const { t } = useI18n();
  const { state, refresh } = useSession();
  const [method, setMethod] = useState<'choose' | 'totp'>('choose');
  const [codes, setCodes] = useState<readonly string[]>();
  const passkey = useAction();
  const finishing = useAction();

  // The session is complete and no codes are waiting to be read: nothing to do here.
  if (!state?.authenticated || (state.stage === 'full' && codes === undefined)) return <Redirect to="/" />;

  // The server issued a new session cookie with the factor; reading the session picks up its
  // anti-forgery token and stage before the console moves on.
  const finish = async () => {
    const result = await finishing.run(refresh);
    if (result.ok) navigate(takeReturnPath() ?? '/', { replace: true });
  };

  const enrolled = (result: Enrolled) => {
    if (result.recoveryCodes && result.recoveryCodes.length > 0) setCodes(result.recoveryCodes);
    else void finish();
  };

  const startPasskey = async () => {
    const result = await passkey.run(() => registerPasskey());
    if (result.ok) enrolled(result.value);
  };

  return (
    <Page title={t('enrol.title')}>
      <p className="step">{t('enrol.step')}</p>
      {codes === undefined ? <p className="lead">{t('enrol.intro')}</p> : null}
      {codes !== undefined ? (
        <>
          <StatusMessage tone="success" message={t('enrol.done')} />
          <RecoveryCodes codes={codes} email={state.agent.email} onStored={() => void finish()} />
          <ErrorMessage error={finishing.error} />
        </>
      ) : method === 'totp' ? (
        <>
          <TotpSetup onEnrolled={enrolled} />
          <p>
            <button type="button" className="button-link" onClick={() => setMethod('choose')}>
              {t('enrol.back')}
            </button>
          </p>
        </>
      ) : (
        <section aria-labelledby="enrol-choose">
          <h2 id="enrol-choose">{t('enrol.choose')}</h2>
          <div className="choices">
            <div className="choice">
              <button
                type="button"
                className="button button-primary button-block"
                aria-describedby="enrol-totp-hint"
                disabled={passkey.busy}
                onClick={() => {
                  passkey.clearError();
                  setMethod('totp');
                }}
              >
                {t('enrol.totp')}
              </button>
              <p id="enrol-totp-hint" className="field-hint">
                {t('enrol.totpHint')}
              </p>
            </div>
            <div className="choice">
              <button
                type="button"
                className="button button-primary button-block"
                aria-describedby="enrol-passkey-hint"
                disabled={passkey.busy}
                onClick={() => void startPasskey()}
              >
                {t('enrol.passkey')}
              </button>
              <p id="enrol-passkey-hint" className="field-hint">
                {t('enrol.passkeyHint')}
              </p>
            </div>
          </div>
          <StatusMessage message={passkey.busy ? t('enrol.passkeyWorking') : undefined} />
          <ErrorMessage error={passkey.error} />
        </section>
      )}
    </Page>
  );
}
