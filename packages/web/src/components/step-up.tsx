/**
 * The step-up prompt. Sensitive actions need a second-factor check younger than
 * STEP_UP_MAX_AGE_SECONDS; when the server answers `step_up_required`, the API client waits on
 * this dialog and then retries the action once.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, onStepUpRequired } from '../api';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { authenticateWithPasskey } from '../webauthn';
import { TextField } from './fields';
import { ErrorMessage } from './messages';

export function StepUpProvider({ children }: { children: ReactNode }) {
  const [resolve, setResolve] = useState<((confirmed: boolean) => void) | undefined>();
  const waiting = useRef<Promise<boolean> | undefined>(undefined);

  useEffect(
    () =>
      onStepUpRequired(() => {
        // Several refused requests at once share one prompt.
        waiting.current ??= new Promise<boolean>((done) => setResolve(() => done));
        return waiting.current;
      }),
    [],
  );

  const finish = (confirmed: boolean) => {
    resolve?.(confirmed);
    waiting.current = undefined;
    setResolve(undefined);
  };

  return (
    <>
      {children}
      {resolve ? <StepUpDialog onConfirmed={() => finish(true)} onCancel={() => finish(false)} /> : null}
    </>
  );
}

function StepUpDialog({ onConfirmed, onCancel }: { onConfirmed: () => void; onCancel: () => void }) {
  const { t } = useI18n();
  const { accept } = useSession();
  const dialog = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState('');
  const { busy, error, run } = useAction();

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  const verifyCode = async (event: FormEvent) => {
    event.preventDefault();
    const result = await run(() => api.verifyTotp(code.trim()));
    if (result.ok) {
      accept(result.value.session);
      onConfirmed();
    } else {
      setCode('');
    }
  };

  const usePasskey = async () => {
    const result = await run(authenticateWithPasskey);
    if (result.ok) {
      accept(result.value.session);
      onConfirmed();
    }
  };

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="step-up-title"
      aria-describedby="step-up-intro"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="step-up-title">{t('stepUp.title')}</h2>
      <p id="step-up-intro">{t('stepUp.intro')}</p>
      <form onSubmit={(event) => void verifyCode(event)}>
        <TextField
          id="step-up-code"
          label={t('mfa.code')}
          hint={t('mfa.codeHint')}
          value={code}
          onChange={(event) => setCode(event.target.value)}
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          autoFocus
          className="field-code"
        />
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {t('mfa.verify')}
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => void usePasskey()}>
            {t('mfa.usePasskey')}
          </button>
          <button type="button" className="button button-quiet" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
