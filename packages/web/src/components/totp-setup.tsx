/** Enrolling an authenticator app (RFC 6238): QR code, the key as text, and a first code. */
import type { FactorEnrolledResponse } from '@rempart/core';
import { toDataURL } from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { api } from '../api';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { TextField } from './fields';
import { ErrorMessage, StatusMessage } from './messages';

export type Enrolled = z.infer<typeof FactorEnrolledResponse>;

export function TotpSetup({
  label,
  onEnrolled,
  nested = false,
}: {
  label?: string;
  onEnrolled: (result: Enrolled) => void;
  /** Inside another section (the account page): its heading is one level lower. */
  nested?: boolean;
}) {
  const Heading = nested ? 'h3' : 'h2';
  const { t } = useI18n();
  const setup = useLoad(async () => {
    const begun = await api.totpBegin();
    const qr = await toDataURL(begun.otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
    return { ...begun, qr };
  }, []);
  const [code, setCode] = useState('');
  const confirm = useAction();

  // A new key replaces the previous one on the server: an old code would not match.
  useEffect(() => setCode(''), [setup.data?.secret]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await confirm.run(() => api.totpConfirm(code.trim(), label?.trim() || undefined));
    if (result.ok) onEnrolled(result.value);
  };

  if (setup.error !== undefined) return <ErrorMessage error={setup.error} />;
  if (!setup.data) return <StatusMessage message={t('totp.preparing')} />;

  return (
    <section className="card" aria-labelledby="totp-heading">
      <Heading id="totp-heading">{t('totp.heading')}</Heading>
      <div className="totp-layout">
        <div>
          <p>{t('totp.scan')}</p>
          <img className="qr" src={setup.data.qr} alt={t('totp.qrAlt')} width={220} height={220} />
        </div>
        <div>
          <p>{t('totp.manual')}</p>
          <p className="secret-box">
            <code data-testid="totp-secret" className="secret">
              {setup.data.secret}
            </code>
          </p>
          <form onSubmit={(event) => void submit(event)}>
            <p>{t('totp.enter')}</p>
            <TextField
              id="totp-code"
              label={t('totp.code')}
              value={code}
              onChange={(event) => setCode(event.target.value)}
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              className="field-code"
            />
            <ErrorMessage error={confirm.error} />
            <div className="actions">
              <button type="submit" className="button button-primary" disabled={confirm.busy}>
                {t('totp.confirm')}
              </button>
            </div>
          </form>
        </div>
      </div>
    </section>
  );
}
