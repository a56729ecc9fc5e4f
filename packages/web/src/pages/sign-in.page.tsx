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

/** `onDone` runs once the session is complete; a session that must still enrol goes to enrolment. */
function useStepHandler(onDone: () => void) {
  const { accept } = useSession();
  return (step: SignInStepResponse) => {
    accept(step.session);
    switch (step.next) {
      case 'done':
        onDone();
        break;
      case 'enrol':
        navigate('/enrol', { replace: true });
        break;
      case 'mfa':
        // The same place shows the second step once the session is in stage 'mfa'.
        break;
    }
  };
}

export function SignInPage() {
  const { t } = useI18n();
  const { state } = useSession();
  const second = state?.authenticated === true && state.stage === 'mfa';
  // Keyed by step: each is a page of its own, whose heading takes the focus.
  return (
    <Page
      key={second ? 'mfa' : 'password'}
      title={second ? t('mfa.heading') : t('signIn.title')}
      heading={second ? undefined : t('signIn.heading')}
    >
      <div className="narrow">
        <SignInSteps onDone={() => navigate(takeReturnPath() ?? '/', { replace: true })} />
      </div>
    </Page>
  );
}

/**
 * The two steps of signing in, for the sign-in page and for an application's sign-in request:
 * `onDone` says where a complete session goes.
 */
export function SignInSteps({ onDone }: { onDone: () => void }) {
  const { state } = useSession();
  if (state?.authenticated && state.stage === 'mfa')
    return <SecondStep key="mfa" email={state.agent.email} onDone={onDone} />;
  return <FirstStep key="password" onDone={onDone} />;
}

function FirstStep({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const { notice } = useSession();
  const onStep = useStepHandler(onDone);
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
    <>
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
    </>
  );
}

function SecondStep({ email, onDone }: { email: string; onDone: () => void }) {
  const { t } = useI18n();
  const { signOut } = useSession();
  const onStep = useStepHandler(onDone);
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
  );
}
