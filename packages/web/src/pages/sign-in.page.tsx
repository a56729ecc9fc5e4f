/** Sign-in: email and password or a passkey, then the second step (code, recovery code or passkey). */
import type { SignInStepResponse } from '@rempart/core';
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { takeReturnPath } from '../return-path';
import { useSession } from '../session';
import { authenticateWithPasskey } from '../webauthn';

function useStepHandler() {
  const { accept } = useSession();
  return (step: SignInStepResponse) => {
    accept(step.session);
    switch (step.next) {
      case 'done':
        navigate(takeReturnPath() ?? '/', { replace: true });
        break;
      case 'enrol':
        navigate('/enrol', { replace: true });
        break;
      case 'mfa':
        // The same page shows the second step once the session is in stage 'mfa'.
        break;
    }
  };
}

export function SignInPage() {
  const { state } = useSession();
  if (state?.authenticated && state.stage === 'mfa')
    return <SecondStep key="mfa" email={state.agent.email} />;
  return <FirstStep key="password" />;
}

function FirstStep() {
  const { t } = useI18n();
  const { notice } = useSession();
  const onStep = useStepHandler();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await action.run(() => api.signInWithPassword(email.trim(), password));
    if (result.ok) onStep(result.value);
    else setPassword('');
  };

  const passkey = async () => {
    const result = await action.run(authenticateWithPasskey);
    if (result.ok) onStep(result.value);
  };

  return (
    <Page title={t('signIn.title')} heading={t('signIn.heading')}>
      <div className="narrow">
        <StatusMessage message={notice === undefined ? undefined : t(`signIn.${notice}`)} />
        <section className="card">
          <p>{t('signIn.intro')}</p>
          <form onSubmit={(event) => void submit(event)}>
            <TextField
              id="sign-in-email"
              label={t('signIn.email')}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              required
            />
            <TextField
              id="sign-in-password"
              label={t('signIn.password')}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
            />
            <ErrorMessage error={action.error} />
            <div className="actions">
              <button type="submit" className="button button-primary" disabled={action.busy}>
                {t('signIn.submit')}
              </button>
            </div>
          </form>
          <p className="separator">
            <span>{t('signIn.or')}</span>
          </p>
          <button
            type="button"
            className="button button-block"
            disabled={action.busy}
            onClick={() => void passkey()}
          >
            {t('signIn.passkey')}
          </button>
        </section>
      </div>
    </Page>
  );
}

function SecondStep({ email }: { email: string }) {
  const { t } = useI18n();
  const { signOut } = useSession();
  const onStep = useStepHandler();
  const [mode, setMode] = useState<'code' | 'recovery'>('code');
  const [code, setCode] = useState('');
  const [recoveryCode, setRecoveryCode] = useState('');
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await action.run(() =>
      mode === 'code' ? api.verifyTotp(code.trim()) : api.verifyRecoveryCode(recoveryCode.trim()),
    );
    if (result.ok) onStep(result.value);
    else if (mode === 'code') setCode('');
  };

  const passkey = async () => {
    const result = await action.run(authenticateWithPasskey);
    if (result.ok) onStep(result.value);
  };

  const switchMode = () => {
    action.clearError();
    setMode(mode === 'code' ? 'recovery' : 'code');
  };

  return (
    <Page title={t('mfa.heading')}>
      <div className="narrow">
        <section className="card">
          <p>{t('mfa.intro')}</p>
          <p className="muted">{t('mfa.signingInAs', { email })}</p>
          <form onSubmit={(event) => void submit(event)}>
            {mode === 'code' ? (
              <TextField
                key="code"
                id="mfa-code"
                label={t('mfa.code')}
                hint={t('mfa.codeHint')}
                value={code}
                onChange={(event) => setCode(event.target.value)}
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                className="field-code"
              />
            ) : (
              <TextField
                key="recovery"
                id="mfa-recovery"
                label={t('mfa.recoveryCode')}
                hint={t('mfa.recoveryHint')}
                value={recoveryCode}
                onChange={(event) => setRecoveryCode(event.target.value)}
                autoComplete="off"
                spellCheck={false}
                autoCapitalize="none"
                maxLength={64}
                required
                autoFocus
              />
            )}
            <ErrorMessage error={action.error} />
            <div className="actions">
              <button type="submit" className="button button-primary" disabled={action.busy}>
                {t('mfa.verify')}
              </button>
              <button type="button" className="button" disabled={action.busy} onClick={() => void passkey()}>
                {t('mfa.usePasskey')}
              </button>
            </div>
          </form>
          <div className="actions actions-secondary">
            <button type="button" className="button-link" onClick={switchMode}>
              {mode === 'code' ? t('mfa.useRecovery') : t('mfa.useCode')}
            </button>
            <button type="button" className="button-link" onClick={() => void action.run(signOut)}>
              {t('mfa.cancel')}
            </button>
          </div>
        </section>
      </div>
    </Page>
  );
}
