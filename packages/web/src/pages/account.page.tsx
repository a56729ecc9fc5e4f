/**
 * The agent's own account: profile, second factors, recovery codes, open sessions and the mail
 * passwords of their devices.
 */
import { MAIL_PASSWORD_DEFAULT_DAYS, type Factor, type MailPassword, type SessionInfo } from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { AgentFacts } from '../components/agent-facts';
import { SelectField, TextField } from '../components/fields';
import { IssuedMailPassword, MailPasswordTable, useMailPasswordRevoke } from '../components/mail-passwords';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { RecoveryCodes } from '../components/recovery-codes';
import { TotpSetup, type Enrolled } from '../components/totp-setup';
import { When } from '../components/when';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { useFullSession, useSession } from '../session';
import { registerPasskey } from '../webauthn';

/** "Firefox on Linux" is more useful than the whole user-agent string; the latter stays in a title. */
function browserName(userAgent: string): string {
  const browser = /(Edg|OPR|Firefox|Chromium|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[1];
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS)/.exec(userAgent)?.[1];
  const names: Record<string, string> = { Edg: 'Edge', OPR: 'Opera', 'Mac OS X': 'macOS', CrOS: 'ChromeOS' };
  if (browser === undefined) return userAgent === '' ? '—' : userAgent.slice(0, 40);
  const b = names[browser] ?? browser;
  return system === undefined ? b : `${b} · ${names[system] ?? system}`;
}

export function AccountPage() {
  const { t } = useI18n();
  const session = useFullSession();
  const { refresh } = useSession();
  const me = useLoad(() => api.me(), []);
  const sessions = useLoad(() => api.sessions(), []);
  const [status, setStatus] = useState<string>();
  const [label, setLabel] = useState('');
  const [addingTotp, setAddingTotp] = useState(false);
  const [codes, setCodes] = useState<readonly string[]>();
  const action = useAction();

  const done = (message: string) => {
    setStatus(message);
    me.reload();
  };

  const enrolled = (result: Enrolled) => {
    // The server may renew the session cookie with a new factor; re-reading the session keeps
    // the anti-forgery token in step.
    void refresh();
    setAddingTotp(false);
    setLabel('');
    if (result.recoveryCodes) setCodes(result.recoveryCodes);
    done(t('account.factorAdded', { label: result.factor.label }));
  };

  const addPasskey = async () => {
    setStatus(undefined);
    setAddingTotp(false);
    const result = await action.run(() => registerPasskey(label.trim() || undefined));
    if (result.ok) enrolled(result.value);
  };

  const removeFactor = async (factor: Factor) => {
    setStatus(undefined);
    const result = await action.run(() => api.removeFactor(factor.id));
    if (result.ok) done(t('account.removed', { label: factor.label }));
  };

  const newCodes = async () => {
    setStatus(undefined);
    const result = await action.run(() => api.newRecoveryCodes());
    if (result.ok) {
      setCodes(result.value.recoveryCodes);
      me.reload();
    }
  };

  const revoke = async (target: SessionInfo) => {
    setStatus(undefined);
    const result = await action.run(() => api.revokeSession(target.id));
    if (!result.ok) return;
    // Revoking this very session signs out; reading the session again takes the console to sign-in.
    if (target.current) await refresh();
    else {
      setStatus(t('account.revoked'));
      sessions.reload();
    }
  };

  const agent = me.data?.agent ?? session.agent;

  return (
    <Page title={t('account.title')}>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={action.error ?? me.error ?? sessions.error} />

      {codes !== undefined ? (
        <RecoveryCodes codes={codes} email={agent.email} onStored={() => setCodes(undefined)} />
      ) : null}

      <section className="card" aria-labelledby="account-profile">
        <h2 id="account-profile">{t('account.profile')}</h2>
        <AgentFacts agent={agent} />
      </section>

      <section className="card" aria-labelledby="account-factors">
        <h2 id="account-factors">{t('account.factors')}</h2>
        <p className="muted">{t('account.factorsIntro')}</p>
        {me.data ? (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('account.factorName')}</th>
                  <th scope="col">{t('account.factorKind')}</th>
                  <th scope="col">{t('account.created')}</th>
                  <th scope="col">{t('account.lastUsed')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('agents.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {me.data.factors.map((factor) => (
                  <tr key={factor.id}>
                    <th scope="row">{factor.label}</th>
                    <td>{t(`factorKind.${factor.kind}`)}</td>
                    <td>
                      <When iso={factor.createdAt} />
                    </td>
                    <td>
                      <When iso={factor.lastUsedAt} />
                    </td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-small button-danger"
                        disabled={action.busy}
                        onClick={() => void removeFactor(factor)}
                      >
                        {t('account.remove')}
                        <span className="visually-hidden"> {factor.label}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <StatusMessage message={me.loading ? t('app.loading') : undefined} />
        )}

        <h3>{t('account.add')}</h3>
        <TextField
          id="new-factor-label"
          label={t('account.newFactorLabel')}
          value={label}
          onChange={(event) => setLabel(event.target.value)}
          maxLength={60}
          autoComplete="off"
        />
        <div className="actions">
          <button type="button" className="button" disabled={action.busy} onClick={() => void addPasskey()}>
            {t('account.addPasskey')}
          </button>
          <button
            type="button"
            className="button"
            disabled={action.busy}
            aria-expanded={addingTotp}
            onClick={() => {
              setStatus(undefined);
              setAddingTotp(!addingTotp);
            }}
          >
            {t('account.addTotp')}
          </button>
        </div>
        {addingTotp ? <TotpSetup label={label} onEnrolled={enrolled} nested /> : null}
      </section>

      <section className="card" aria-labelledby="account-recovery">
        <h2 id="account-recovery">{t('account.recovery')}</h2>
        {me.data ? <p>{t('account.recoveryLeft', { count: me.data.recoveryCodesLeft })}</p> : null}
        <p className="muted" id="new-recovery-hint">
          {t('account.newRecoveryHint')}
        </p>
        <button
          type="button"
          className="button"
          aria-describedby="new-recovery-hint"
          disabled={action.busy}
          onClick={() => void newCodes()}
        >
          {t('account.newRecovery')}
        </button>
      </section>

      <section className="card" aria-labelledby="account-sessions">
        <h2 id="account-sessions">{t('account.sessions')}</h2>
        {sessions.data ? (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('account.sessionBrowser')}</th>
                  <th scope="col">{t('account.sessionStarted')}</th>
                  <th scope="col">{t('account.sessionLastSeen')}</th>
                  <th scope="col">{t('account.sessionIp')}</th>
                  <th scope="col">{t('account.sessionStage')}</th>
                  <th scope="col">{t('account.sessionActions')}</th>
                </tr>
              </thead>
              <tbody>
                {sessions.data.sessions.map((item) => (
                  <tr key={item.id} className={item.current ? 'row-current' : undefined}>
                    <th scope="row" title={item.userAgent}>
                      {browserName(item.userAgent)}
                      {item.current ? (
                        <span className="badge badge-current">{t('account.thisSession')}</span>
                      ) : null}
                    </th>
                    <td>
                      <When iso={item.createdAt} />
                    </td>
                    <td>
                      <When iso={item.lastSeenAt} />
                    </td>
                    <td>
                      <code>{item.ip}</code>
                    </td>
                    <td>{t(`stage.${item.stage}`)}</td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-small button-danger"
                        disabled={action.busy}
                        onClick={() => void revoke(item)}
                      >
                        {/* Revoking the session in use is signing out here: say so. */}
                        {item.current ? t('nav.signOut') : t('account.revoke')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <StatusMessage message={sessions.loading ? t('app.loading') : undefined} />
        )}
      </section>

      <MailPasswords email={agent.email} />
    </Page>
  );
}

/** How long a new mail password may work, in days; the server's default among them. */
const mailPasswordDays = [...new Set([30, 90, MAIL_PASSWORD_DEFAULT_DAYS, 365])].sort((a, b) => a - b);

/** The agent's mail passwords: one per device, created after a fresh second-factor check. */
function MailPasswords({ email }: { email: string }) {
  const { t } = useI18n();
  const passwords = useLoad(() => api.mailPasswords(), []);
  const [device, setDevice] = useState('');
  const [days, setDays] = useState<number>(MAIL_PASSWORD_DEFAULT_DAYS);
  const [issued, setIssued] = useState<{ password: MailPassword; secret: string }>();
  const [status, setStatus] = useState<string>();
  const creating = useAction();
  const issuedHeading = useRef<HTMLHeadingElement>(null);

  // The secret is the one thing to act on: take the focus there.
  useEffect(() => {
    if (issued) issuedHeading.current?.focus();
  }, [issued]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setStatus(undefined);
    const result = await creating.run(() => api.createMailPassword({ device: device.trim(), days }));
    if (!result.ok) return;
    setIssued({ password: result.value.mailPassword, secret: result.value.secret });
    setDevice('');
    passwords.reload();
  };

  const { revoke, revoking } = useMailPasswordRevoke(
    passwords,
    (id) => api.revokeMailPassword(id),
    setStatus,
  );

  return (
    <>
      {issued ? (
        <IssuedMailPassword
          password={issued.password}
          secret={issued.secret}
          email={email}
          headingRef={issuedHeading}
          onDone={() => setIssued(undefined)}
        />
      ) : null}
      <section className="card" aria-labelledby="account-mail">
        <h2 id="account-mail">{t('mail.heading')}</h2>
        <p className="muted">{t('mail.intro')}</p>
        <StatusMessage tone="success" message={status} />
        <ErrorMessage error={revoking.error ?? passwords.error} />
        {passwords.data ? (
          <MailPasswordTable
            passwords={passwords.data.mailPasswords}
            busy={revoking.busy}
            onRevoke={(password) => void revoke(password)}
            label={t('mail.heading')}
          />
        ) : (
          <StatusMessage message={passwords.loading ? t('app.loading') : undefined} />
        )}

        <h3>{t('mail.add')}</h3>
        <form className="form-grid" onSubmit={(event) => void create(event)}>
          <TextField
            id="mail-device"
            label={t('mail.newDevice')}
            hint={t('mail.newDeviceHint')}
            value={device}
            onChange={(event) => setDevice(event.target.value)}
            maxLength={60}
            autoComplete="off"
            required
          />
          <SelectField
            id="mail-days"
            label={t('mail.validFor')}
            value={String(days)}
            onChange={(event) => setDays(Number(event.target.value))}
          >
            {mailPasswordDays.map((count) => (
              <option key={count} value={count}>
                {t('mail.days', { count })}
              </option>
            ))}
          </SelectField>
          <div className="form-grid-wide">
            <p className="field-hint" id="mail-create-hint">
              {t('mail.createHint')}
            </p>
            <ErrorMessage error={creating.error} />
            <button
              type="submit"
              className="button button-primary"
              aria-describedby="mail-create-hint"
              disabled={creating.busy}
            >
              {t('mail.create')}
            </button>
          </div>
        </form>
      </section>
    </>
  );
}
