/**
 * Administration of agents: invitations, enrolment links, disabling, unlocking, MFA resets, and
 * the mail passwords of an agent's devices.
 */
import {
  classifications,
  roles,
  type Agent,
  type Classification,
  type EnrolmentLink,
  type Role,
} from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ClearanceBadge, StatusBadge } from '../components/badges';
import { EnrolmentLinkPanel } from '../components/enrolment-link';
import { SelectField, TextField } from '../components/fields';
import { MailPasswordTable, useMailPasswordRevoke } from '../components/mail-passwords';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { useFullSession } from '../session';

interface IssuedLink {
  link: EnrolmentLink;
  summary: string;
}

const emptyInvite = {
  email: '',
  displayName: '',
  unit: '',
  role: 'agent' as Role,
  clearance: 'internal' as Classification,
};

function isLocked(agent: Agent, now: number): boolean {
  return agent.lockedUntil !== null && Date.parse(agent.lockedUntil) > now;
}

export function AgentsPage() {
  const { t, formatDateTime } = useI18n();
  const { agent: me } = useFullSession();
  const agents = useLoad(() => api.agents(), []);
  const [invite, setInvite] = useState(emptyInvite);
  const [issued, setIssued] = useState<IssuedLink>();
  const [status, setStatus] = useState<string>();
  const [mailOf, setMailOf] = useState<Agent>();
  const inviting = useAction();
  const acting = useAction();
  const issuedHeading = useRef<HTMLHeadingElement>(null);
  const now = Date.now();

  // A new link is the one thing the admin must act on: take the focus there.
  useEffect(() => {
    if (issued) issuedHeading.current?.focus();
  }, [issued]);

  const replaceAgent = (updated: Agent) =>
    agents.setData((previous) =>
      previous ? { agents: previous.agents.map((a) => (a.id === updated.id ? updated : a)) } : previous,
    );

  const submitInvite = async (event: FormEvent) => {
    event.preventDefault();
    setStatus(undefined);
    const result = await inviting.run(() =>
      api.inviteAgent({
        email: invite.email.trim(),
        displayName: invite.displayName.trim(),
        unit: invite.unit.trim(),
        role: invite.role,
        clearance: invite.clearance,
      }),
    );
    if (!result.ok) return;
    const link = result.value;
    setInvite(emptyInvite);
    setIssued({ link, summary: t('agents.invited', { name: link.agent.displayName }) });
    agents.reload();
  };

  const simple = async (agent: Agent, kind: 'disable' | 'enable' | 'unlock') => {
    setStatus(undefined);
    const call = { disable: api.disableAgent, enable: api.enableAgent, unlock: api.unlockAgent }[kind];
    const result = await acting.run(() => call(agent.id));
    if (!result.ok) return;
    replaceAgent(result.value.agent);
    const message = {
      disable: 'agents.disabledDone',
      enable: 'agents.enabledDone',
      unlock: 'agents.unlockedDone',
    } as const;
    setStatus(t(message[kind], { name: result.value.agent.displayName }));
  };

  const linkFor = async (agent: Agent, kind: 'reset' | 'link') => {
    setStatus(undefined);
    const result = await acting.run(() =>
      kind === 'reset' ? api.resetMfa(agent.id) : api.newEnrolmentLink(agent.id),
    );
    if (!result.ok) return;
    const link = result.value;
    replaceAgent(link.agent);
    const name = link.agent.displayName;
    setIssued({ link, summary: t(kind === 'reset' ? 'agents.resetDone' : 'agents.linkDone', { name }) });
  };

  return (
    <Page title={t('agents.title')} wide>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={acting.error ?? agents.error} />

      {issued ? (
        <EnrolmentLinkPanel link={issued.link} summary={issued.summary} headingRef={issuedHeading} />
      ) : null}

      <section className="card" aria-labelledby="agents-invite">
        <h2 id="agents-invite">{t('agents.invite')}</h2>
        <p className="muted">{t('agents.inviteIntro')}</p>
        <form className="form-grid" onSubmit={(event) => void submitInvite(event)}>
          <TextField
            id="invite-email"
            label={t('agents.email')}
            type="email"
            autoComplete="off"
            required
            maxLength={254}
            value={invite.email}
            onChange={(event) => setInvite({ ...invite, email: event.target.value })}
          />
          <TextField
            id="invite-name"
            label={t('agents.displayName')}
            autoComplete="off"
            required
            maxLength={120}
            value={invite.displayName}
            onChange={(event) => setInvite({ ...invite, displayName: event.target.value })}
          />
          <TextField
            id="invite-unit"
            label={t('agents.unit')}
            autoComplete="off"
            maxLength={120}
            value={invite.unit}
            onChange={(event) => setInvite({ ...invite, unit: event.target.value })}
          />
          <SelectField
            id="invite-role"
            label={t('agents.role')}
            value={invite.role}
            onChange={(event) => {
              const role = roles.find((r) => r === event.target.value);
              if (role) setInvite({ ...invite, role });
            }}
          >
            {roles.map((role) => (
              <option key={role} value={role}>
                {t(`role.${role}`)}
              </option>
            ))}
          </SelectField>
          <SelectField
            id="invite-clearance"
            label={t('agents.clearance')}
            value={invite.clearance}
            onChange={(event) => {
              const clearance = classifications.find((c) => c === event.target.value);
              if (clearance) setInvite({ ...invite, clearance });
            }}
          >
            {classifications.map((level) => (
              <option key={level} value={level}>
                {t(`clearance.${level}`)}
              </option>
            ))}
          </SelectField>
          <div className="form-grid-wide">
            <ErrorMessage error={inviting.error} />
            <button type="submit" className="button button-primary" disabled={inviting.busy}>
              {t('agents.inviteSubmit')}
            </button>
          </div>
        </form>
      </section>

      <section className="card" aria-labelledby="agents-list">
        <h2 id="agents-list">{t('agents.list')}</h2>
        {agents.data ? (
          agents.data.agents.length === 0 ? (
            <p>{t('agents.empty')}</p>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('agents.name')}</th>
                    <th scope="col">{t('agents.email')}</th>
                    <th scope="col">{t('agents.unit')}</th>
                    <th scope="col">{t('agents.role')}</th>
                    <th scope="col">{t('agents.clearance')}</th>
                    <th scope="col">{t('agents.status')}</th>
                    <th scope="col">{t('agents.lockedUntil')}</th>
                    <th scope="col" className="cell-number">
                      {t('agents.factors')}
                    </th>
                    <th scope="col">{t('agents.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {agents.data.agents.map((agent) => {
                    const self = agent.id === me.id;
                    const locked = isLocked(agent, now);
                    return (
                      <tr key={agent.id}>
                        <th scope="row">
                          {agent.displayName}
                          {self ? <span className="muted"> {t('agents.you')}</span> : null}
                        </th>
                        <td>{agent.email}</td>
                        <td>{agent.unit === '' ? t('common.none') : agent.unit}</td>
                        <td>{t(`role.${agent.role}`)}</td>
                        <td>
                          <ClearanceBadge clearance={agent.clearance} />
                        </td>
                        <td>
                          <StatusBadge status={agent.status} />
                        </td>
                        <td>
                          {locked && agent.lockedUntil !== null ? (
                            <time dateTime={agent.lockedUntil}>{formatDateTime(agent.lockedUntil)}</time>
                          ) : (
                            t('common.none')
                          )}
                        </td>
                        <td className="cell-number">{agent.factorCount}</td>
                        <td className="cell-actions">
                          <div className="row-actions">
                            {agent.status === 'disabled' ? (
                              <button
                                type="button"
                                className="button button-small"
                                disabled={acting.busy}
                                onClick={() => void simple(agent, 'enable')}
                              >
                                {t('agents.enable')}
                              </button>
                            ) : (
                              <button
                                type="button"
                                className="button button-small button-danger"
                                disabled={acting.busy || self}
                                onClick={() => void simple(agent, 'disable')}
                              >
                                {t('agents.disable')}
                              </button>
                            )}
                            {locked ? (
                              <button
                                type="button"
                                className="button button-small"
                                disabled={acting.busy}
                                onClick={() => void simple(agent, 'unlock')}
                              >
                                {t('agents.unlock')}
                              </button>
                            ) : null}
                            {agent.status === 'pending' ? (
                              <button
                                type="button"
                                className="button button-small"
                                disabled={acting.busy}
                                onClick={() => void linkFor(agent, 'link')}
                              >
                                {t('agents.newLink')}
                              </button>
                            ) : (
                              <button
                                type="button"
                                className="button button-small"
                                disabled={acting.busy || self}
                                onClick={() => void linkFor(agent, 'reset')}
                              >
                                {t('agents.resetMfa')}
                              </button>
                            )}
                            <button
                              type="button"
                              className="button button-small"
                              aria-expanded={mailOf?.id === agent.id}
                              aria-controls={mailOf?.id === agent.id ? 'agent-mail' : undefined}
                              onClick={() => setMailOf(mailOf?.id === agent.id ? undefined : agent)}
                            >
                              {t('agents.mailDevices')}
                              <span className="visually-hidden"> {agent.displayName}</span>
                            </button>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        ) : (
          <StatusMessage message={agents.loading ? t('app.loading') : undefined} />
        )}
      </section>

      {mailOf ? (
        <AgentMailPasswords key={mailOf.id} agent={mailOf} onClose={() => setMailOf(undefined)} />
      ) : null}
    </Page>
  );
}

/** Which devices read an agent's mail, from where; any of them can be cut off here. */
function AgentMailPasswords({ agent, onClose }: { agent: Agent; onClose: () => void }) {
  const { t } = useI18n();
  const passwords = useLoad(() => api.agentMailPasswords(agent.id), [agent.id]);
  const [status, setStatus] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), []);

  const { revoke, revoking } = useMailPasswordRevoke(
    passwords,
    (id) => api.revokeAgentMailPassword(id),
    setStatus,
  );

  return (
    <section id="agent-mail" className="card" aria-labelledby="agent-mail-heading">
      <h2 id="agent-mail-heading" ref={heading} tabIndex={-1}>
        {t('agents.mailHeading', { name: agent.displayName })}
      </h2>
      <p className="muted">{t('agents.mailIntro')}</p>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={revoking.error ?? passwords.error} />
      {passwords.data ? (
        <MailPasswordTable
          passwords={passwords.data.mailPasswords}
          busy={revoking.busy}
          onRevoke={(password) => void revoke(password)}
          label={t('agents.mailHeading', { name: agent.displayName })}
        />
      ) : (
        <StatusMessage message={passwords.loading ? t('app.loading') : undefined} />
      )}
      <div className="actions">
        <button type="button" className="button" onClick={onClose}>
          {t('agents.mailClose')}
        </button>
      </div>
    </section>
  );
}
