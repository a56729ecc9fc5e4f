/** Landing page of an enrolment link: who it is for, and the agent's new password. */
import { PASSWORD_MIN_LENGTH } from '@rempart/core';
import { useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';

/** Length as a person counts it: one per character, not per UTF-16 unit. */
const length = (text: string): number => [...text].length;

export function EnrolLinkPage({ token }: { token: string }) {
  const { t, formatDateTime } = useI18n();
  const { accept } = useSession();
  const info = useLoad(() => api.enrolmentInfo(token), [token]);
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [problem, setProblem] = useState<{ field: 'password' | 'confirmation'; message: string }>();
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmationRef = useRef<HTMLInputElement>(null);
  const action = useAction();

  if (info.loading && !info.data) {
    return (
      <Page title={t('enrolLink.title')}>
        <StatusMessage message={t('enrolLink.checking')} />
      </Page>
    );
  }
  if (!info.data) {
    return (
      <Page title={t('enrolLink.title')}>
        <ErrorMessage error={info.error} />
        <p>
          <Link to="/sign-in">{t('signIn.heading')}</Link>
        </p>
      </Page>
    );
  }

  const min = PASSWORD_MIN_LENGTH;
  const count = length(password);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (count < min) {
      setProblem({ field: 'password', message: t('enrolLink.tooShort', { min }) });
      passwordRef.current?.focus();
      return;
    }
    if (password !== confirmation) {
      setProblem({ field: 'confirmation', message: t('enrolLink.mismatch') });
      confirmationRef.current?.focus();
      return;
    }
    setProblem(undefined);
    const result = await action.run(() => api.setEnrolmentPassword(token, password));
    if (result.ok) {
      accept(result.value.session);
      navigate('/enrol', { replace: true });
    }
  };

  return (
    <Page title={t('enrolLink.title')}>
      <div className="narrow">
        <p className="step">{t('enrolLink.step', { step: 1 })}</p>
        <section className="card">
          <h2>{t('enrolLink.welcome', { name: info.data.displayName })}</h2>
          <p>{t('enrolLink.intro')}</p>
          <p className="muted">{t('enrolLink.expires', { date: formatDateTime(info.data.expiresAt) })}</p>
          <form onSubmit={(event) => void submit(event)} noValidate>
            <TextField
              id="enrol-email"
              label={t('enrolLink.email')}
              type="email"
              autoComplete="username"
              value={info.data.email}
              readOnly
            />
            <TextField
              ref={passwordRef}
              id="enrol-password"
              label={t('enrolLink.newPassword')}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
              minLength={min}
              hint={
                <>
                  {t('enrolLink.hint', { min })}{' '}
                  <span className={count >= min ? 'strength strength-ok' : 'strength'}>
                    {count >= min ? t('enrolLink.lengthOk') : t('enrolLink.length', { count, min })}
                  </span>
                </>
              }
              problem={problem?.field === 'password' ? problem.message : undefined}
            />
            <TextField
              ref={confirmationRef}
              id="enrol-confirmation"
              label={t('enrolLink.confirmPassword')}
              type="password"
              autoComplete="new-password"
              value={confirmation}
              onChange={(event) => setConfirmation(event.target.value)}
              required
              problem={problem?.field === 'confirmation' ? problem.message : undefined}
            />
            <ErrorMessage error={action.error} />
            <div className="actions">
              <button type="submit" className="button button-primary" disabled={action.busy}>
                {t('enrolLink.submit')}
              </button>
            </div>
          </form>
        </section>
      </div>
    </Page>
  );
}
