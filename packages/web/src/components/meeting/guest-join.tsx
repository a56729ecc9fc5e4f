/**
 * The way in for an external guest, where the meeting's hosts allow it: a name and an email
 * address, then the one-time code sent to that address. The code proves the address, nothing
 * more: the guest then waits in the lobby for a host, marked GUEST to everyone.
 */
import { useRef, useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api';
import { useAction } from '../../hooks';
import { useI18n } from '../../i18n';
import { TextField } from '../fields';
import { ErrorMessage, StatusMessage } from '../messages';

interface Challenge {
  challengeId: string;
  email: string;
  expiresAt: string;
}

export function GuestJoin({ linkId, onVerified }: { linkId: string; onVerified: () => void }) {
  const { t, formatTime } = useI18n();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [challenge, setChallenge] = useState<Challenge>();
  const codeField = useRef<HTMLInputElement>(null);
  const action = useAction();

  const start = async (event: FormEvent) => {
    event.preventDefault();
    const result = await action.run(() =>
      api.guestStart(linkId, { email: email.trim(), displayName: name.trim() }),
    );
    if (!result.ok) return;
    setChallenge({ ...result.value, email: email.trim() });
    setCode('');
    // The next thing to do is to type the code: take the focus there once it is on the page.
    queueMicrotask(() => codeField.current?.focus());
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!challenge) return;
    const result = await action.run(() => api.guestVerify(linkId, challenge.challengeId, code.trim()));
    if (result.ok) onVerified();
    else setCode('');
  };

  // The generic sign-in failure would say too little here: it is the code that was wrong.
  const error =
    action.error instanceof ApiError && action.error.code === 'invalid_credentials'
      ? undefined
      : action.error;
  const codeProblem =
    action.error instanceof ApiError && action.error.code === 'invalid_credentials'
      ? t('guest.codeInvalid')
      : undefined;
  const unavailable = action.error instanceof ApiError && action.error.code === 'not_found';

  return (
    <section className="card guest-join" aria-labelledby="guest-heading">
      <h2 id="guest-heading">{t('guest.title')}</h2>
      <p>{t('guest.intro')}</p>
      {challenge === undefined ? (
        <form onSubmit={(event) => void start(event)}>
          <TextField
            id="guest-name"
            data-testid="guest-name"
            label={t('guest.name')}
            hint={t('guest.nameHint')}
            autoComplete="name"
            required
            maxLength={120}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
          <TextField
            id="guest-email"
            data-testid="guest-email"
            label={t('guest.email')}
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
          {unavailable ? (
            <p className="message message-error">{t('guest.unavailable')}</p>
          ) : (
            <ErrorMessage error={error} />
          )}
          <button
            type="submit"
            className="button button-primary"
            data-testid="guest-send"
            disabled={action.busy}
          >
            {t('guest.send')}
          </button>
        </form>
      ) : (
        <form onSubmit={(event) => void verify(event)}>
          <StatusMessage
            tone="success"
            message={t('guest.sent', { email: challenge.email, time: formatTime(challenge.expiresAt) })}
          />
          <TextField
            id="guest-code"
            data-testid="guest-code"
            ref={codeField}
            className="field-code field-code-wide"
            label={t('guest.code')}
            hint={t('guest.codeHint')}
            problem={codeProblem}
            autoComplete="one-time-code"
            autoCapitalize="characters"
            spellCheck={false}
            required
            maxLength={9}
            pattern="[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}"
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
          <ErrorMessage error={error} />
          <div className="actions">
            <button
              type="submit"
              className="button button-primary"
              data-testid="guest-verify"
              disabled={action.busy}
            >
              {t('guest.verify')}
            </button>
            <button
              type="button"
              className="button-link"
              onClick={() => {
                action.clearError();
                setChallenge(undefined);
              }}
            >
              {t('guest.otherEmail')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
