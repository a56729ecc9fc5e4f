/**
 * Mail passwords: one per device that reads an agent's mail, so that a lost phone is cut off
 * alone and the Rempart password never sits in a mail app. The table is the agent's own (account
 * page) or an administrator's view of anyone's (agents page); the secret is shown once, at creation.
 */
import type { MailPassword } from '@rempart/core';
import type { Ref } from 'react';
import { useAction, type Loaded } from '../hooks';
import { useI18n } from '../i18n';
import { CopyLink } from './copy-link';
import { When } from './when';

const statusClass: Readonly<Record<MailPassword['status'], string>> = {
  active: 'status-active',
  expired: 'status-pending',
  revoked: 'status-disabled',
};

export function MailPasswordStatus({ status }: { status: MailPassword['status'] }) {
  const { t } = useI18n();
  return <span className={`badge ${statusClass[status]}`}>{t(`mail.status.${status}`)}</span>;
}

/** Each device's password: its state, and where and how it was last used. */
export function MailPasswordTable({
  passwords,
  busy,
  onRevoke,
  label,
}: {
  passwords: readonly MailPassword[];
  busy: boolean;
  onRevoke: (password: MailPassword) => void;
  /** What the table lists, for assistive technologies. */
  label: string;
}) {
  const { t, formatNumber } = useI18n();
  if (passwords.length === 0) return <p className="empty">{t('mail.empty')}</p>;
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">{t('mail.device')}</th>
            <th scope="col">{t('mail.statusHeading')}</th>
            <th scope="col">{t('mail.created')}</th>
            <th scope="col">{t('mail.expires')}</th>
            <th scope="col">{t('mail.lastUsed')}</th>
            <th scope="col" className="cell-number">
              {t('mail.uses')}
            </th>
            <th scope="col">
              <span className="visually-hidden">{t('agents.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {passwords.map((password) => (
            <tr key={password.id}>
              <th scope="row">{password.device}</th>
              <td>
                <MailPasswordStatus status={password.status} />
                {password.revokedAt === null ? null : (
                  <p className="details">
                    <When iso={password.revokedAt} />
                  </p>
                )}
              </td>
              <td>
                <When iso={password.createdAt} />
              </td>
              <td>
                <When iso={password.expiresAt} />
              </td>
              <td>
                <When iso={password.lastUsedAt} />
                <LastUse password={password} />
              </td>
              <td className="cell-number">{formatNumber(password.uses)}</td>
              <td className="cell-actions">
                {password.status === 'active' ? (
                  <button
                    type="button"
                    className="button button-small button-danger"
                    disabled={busy}
                    onClick={() => onRevoke(password)}
                  >
                    {t('mail.revoke')}
                    <span className="visually-hidden"> {password.device}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Where and how a device last used its password: the address it came from, the mail service. */
function LastUse({ password }: { password: MailPassword }) {
  const { t } = useI18n();
  if (password.lastIp === null && password.lastService === null) return null;
  return (
    <dl className="details">
      {password.lastIp === null ? null : (
        <div>
          <dt>{t('mail.lastAddress')}</dt>
          <dd>{password.lastIp}</dd>
        </div>
      )}
      {password.lastService === null ? null : (
        <div>
          <dt>{t('mail.service')}</dt>
          <dd>{password.lastService}</dd>
        </div>
      )}
    </dl>
  );
}

/** A new mail password, shown this once, with what to enter in the device's mail app. */
export function IssuedMailPassword({
  password,
  secret,
  email,
  headingRef,
  onDone,
}: {
  password: MailPassword;
  secret: string;
  email: string;
  headingRef?: Ref<HTMLHeadingElement>;
  onDone: () => void;
}) {
  const { t, formatDateTime } = useI18n();
  return (
    <section className="card card-important" aria-labelledby="mail-issued-heading" data-testid="mail-issued">
      <h2 id="mail-issued-heading" ref={headingRef} tabIndex={-1}>
        {t('mail.issuedHeading', { device: password.device })}
      </h2>
      <p>{t('mail.issuedIntro', { date: formatDateTime(password.expiresAt) })}</p>
      <dl className="facts">
        <dt>{t('mail.userName')}</dt>
        <dd>
          <code>{email}</code>
        </dd>
        <dt>{t('mail.password')}</dt>
        <dd>
          <CopyLink
            url={secret}
            testId="mail-secret"
            labels={{ copy: t('mail.copy'), copied: t('mail.copied'), failed: t('mail.copyFailed') }}
          />
        </dd>
      </dl>
      <p className="field-hint">{t('mail.settingsHint', { email })}</p>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={onDone}>
          {t('mail.issuedDone')}
        </button>
      </div>
    </section>
  );
}

/**
 * Revoking one password of a loaded list, for the agent's own page and an administrator's view:
 * the row shows its new state at once, and `setStatus` says which device was cut off.
 */
export function useMailPasswordRevoke(
  passwords: Loaded<{ mailPasswords: MailPassword[] }>,
  revokeOne: (id: string) => Promise<{ mailPassword: MailPassword }>,
  setStatus: (message: string | undefined) => void,
) {
  const { t } = useI18n();
  const revoking = useAction();
  const revoke = async (password: MailPassword) => {
    setStatus(undefined);
    const result = await revoking.run(() => revokeOne(password.id));
    if (!result.ok) return;
    const revoked = result.value.mailPassword;
    passwords.setData((previous) =>
      previous
        ? { mailPasswords: previous.mailPasswords.map((p) => (p.id === revoked.id ? revoked : p)) }
        : previous,
    );
    setStatus(t('mail.revoked', { device: revoked.device }));
  };
  return { revoke, revoking };
}
