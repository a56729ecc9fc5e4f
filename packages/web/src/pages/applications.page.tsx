/**
 * Single sign-on for the institution's other web applications, Rempart being their OpenID
 * Connect provider: administrators register each application (where it takes agents back, how
 * recent a second-factor check it demands), hand its owner the credentials and the provider's
 * addresses, and rotate the keys that sign its tokens.
 */
import type { OidcClient } from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent, type Ref } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyLink } from '../components/copy-link';
import { SelectField, TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { RadioGroupField, TextAreaField, linesProblem } from '../components/netguard/fields';
import { Page } from '../components/page';
import { When } from '../components/when';
import { useAction, useLoad } from '../hooks';
import { useI18n, type Translate } from '../i18n';
import {
  draftOf,
  newClientDraft,
  readClientDraft,
  type ClientDraft,
  type ClientKind,
  type ClientProblems,
} from '../signon/client-form';
import { mfaAgeChoices, mfaAgeText } from '../signon/wording';

/** A client's credentials just issued: its secret (none for a public client) is shown this once. */
interface Issued {
  client: OidcClient;
  secret: string | null;
  renewed: boolean;
}

/** An action that asks first: a new secret breaks the application until its owner enters it. */
type Pending = { kind: 'secret' | 'disable'; client: OidcClient };

export function ApplicationsPage() {
  const { t } = useI18n();
  const clients = useLoad(() => api.applications.clients(), []);
  const [editing, setEditing] = useState<OidcClient>();
  const [issued, setIssued] = useState<Issued>();
  const [pending, setPending] = useState<Pending>();
  const [status, setStatus] = useState<string>();
  const acting = useAction();
  const issuedHeading = useRef<HTMLHeadingElement>(null);
  const formHeading = useRef<HTMLHeadingElement>(null);

  // New credentials are the one thing the administrator must act on: take the focus there.
  useEffect(() => {
    if (issued) issuedHeading.current?.focus();
  }, [issued]);

  // The form opened on a client (a fresh one, keyed by it) takes the focus.
  useEffect(() => {
    if (editing) formHeading.current?.focus();
  }, [editing]);

  const replaceClient = (updated: OidcClient) =>
    clients.setData((previous) =>
      previous ? { clients: previous.clients.map((c) => (c.id === updated.id ? updated : c)) } : previous,
    );

  const saved = (client: OidcClient, secret: string | null | undefined) => {
    if (secret === undefined) {
      replaceClient(client);
      setStatus(t('applications.saved', { name: client.name }));
    } else {
      setIssued({ client, secret, renewed: false });
      clients.reload();
    }
    setEditing(undefined);
  };

  const edit = (client: OidcClient) => {
    setStatus(undefined);
    setEditing(client);
  };

  const confirmed = async ({ kind, client }: Pending) => {
    setPending(undefined);
    setStatus(undefined);
    if (kind === 'secret') {
      const result = await acting.run(() => api.applications.newSecret(client.id));
      if (result.ok) setIssued({ ...result.value, renewed: true });
      return;
    }
    const result = await acting.run(() => api.applications.disable(client.id));
    if (!result.ok) return;
    replaceClient(result.value.client);
    setStatus(t('applications.disabledDone', { name: client.name }));
  };

  const enable = async (client: OidcClient) => {
    setStatus(undefined);
    const result = await acting.run(() => api.applications.enable(client.id));
    if (!result.ok) return;
    replaceClient(result.value.client);
    setStatus(t('applications.enabledDone', { name: client.name }));
  };

  return (
    <Page title={t('applications.title')} lead={t('applications.lead')} wide>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={acting.error ?? clients.error} />

      {issued ? (
        <IssuedCredentials issued={issued} headingRef={issuedHeading} onDone={() => setIssued(undefined)} />
      ) : null}

      <section className="card" aria-labelledby="applications-list">
        <h2 id="applications-list">{t('applications.list')}</h2>
        {clients.data ? (
          <ClientTable
            clients={clients.data.clients}
            busy={acting.busy}
            onEdit={edit}
            onNewSecret={(client) => setPending({ kind: 'secret', client })}
            onDisable={(client) => setPending({ kind: 'disable', client })}
            onEnable={(client) => void enable(client)}
          />
        ) : (
          <StatusMessage message={clients.loading ? t('app.loading') : undefined} />
        )}
      </section>

      <ClientForm
        key={editing?.id ?? 'new'}
        editing={editing}
        headingRef={formHeading}
        onSaved={saved}
        onCancel={() => setEditing(undefined)}
      />

      <ProviderFacts />
      <SigningKeys />

      {pending ? (
        <ConfirmDialog
          title={
            pending.kind === 'secret'
              ? t('applications.secretConfirmTitle', { name: pending.client.name })
              : t('applications.disableConfirmTitle', { name: pending.client.name })
          }
          confirmLabel={pending.kind === 'secret' ? t('applications.newSecret') : t('applications.disable')}
          danger
          onConfirm={() => void confirmed(pending)}
          onCancel={() => setPending(undefined)}
        >
          <p>
            {pending.kind === 'secret'
              ? t('applications.secretConfirmText')
              : t('applications.disableConfirmText')}
          </p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

function IssuedCredentials({
  issued,
  headingRef,
  onDone,
}: {
  issued: Issued;
  headingRef: Ref<HTMLHeadingElement>;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const { client, secret, renewed } = issued;
  return (
    <section
      className="card card-important"
      aria-labelledby="applications-issued"
      data-testid="oidc-credentials"
    >
      <h2 id="applications-issued" ref={headingRef} tabIndex={-1}>
        {t(renewed ? 'applications.renewedHeading' : 'applications.issuedHeading', { name: client.name })}
      </h2>
      <p>{secret === null ? t('applications.issuedPublic') : t('applications.issuedIntro')}</p>
      <dl className="facts">
        <dt>{t('applications.clientId')}</dt>
        <dd>
          <CopyLink
            url={client.id}
            testId="oidc-client-id"
            labels={{
              copy: t('applications.copyId'),
              copied: t('applications.copied'),
              failed: t('applications.copyFailed'),
            }}
          />
        </dd>
        {secret === null ? null : (
          <>
            <dt>{t('applications.clientSecret')}</dt>
            <dd>
              <CopyLink
                url={secret}
                testId="oidc-client-secret"
                labels={{
                  copy: t('applications.copySecret'),
                  copied: t('applications.copied'),
                  failed: t('applications.copyFailed'),
                }}
              />
            </dd>
          </>
        )}
      </dl>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={onDone}>
          {t('applications.issuedDone')}
        </button>
      </div>
    </section>
  );
}

function ClientTable({
  clients,
  busy,
  onEdit,
  onNewSecret,
  onDisable,
  onEnable,
}: {
  clients: readonly OidcClient[];
  busy: boolean;
  onEdit: (client: OidcClient) => void;
  onNewSecret: (client: OidcClient) => void;
  onDisable: (client: OidcClient) => void;
  onEnable: (client: OidcClient) => void;
}) {
  const { t, language } = useI18n();
  if (clients.length === 0) return <p className="empty">{t('applications.empty')}</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t('applications.name')}</th>
            <th scope="col">{t('applications.clientId')}</th>
            <th scope="col">{t('applications.addresses')}</th>
            <th scope="col">{t('applications.mfaMaxAge')}</th>
            <th scope="col">{t('applications.kind')}</th>
            <th scope="col">{t('applications.status')}</th>
            <th scope="col">{t('agents.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {clients.map((client) => {
            const disabled = client.disabledAt !== null;
            return (
              <tr key={client.id}>
                <th scope="row">
                  {client.name}
                  <p className="details">
                    {t('applications.registered')} <When iso={client.createdAt} />
                  </p>
                </th>
                <td>
                  <code>{client.id}</code>
                </td>
                <td className="cell-break">
                  <AddressList label={t('applications.redirectUris')} addresses={client.redirectUris} />
                  <AddressList
                    label={t('applications.postLogoutRedirectUris')}
                    addresses={client.postLogoutRedirectUris}
                  />
                  <AddressList
                    label={t('applications.backchannelLogoutUri')}
                    addresses={client.backchannelLogoutUri === null ? [] : [client.backchannelLogoutUri]}
                  />
                </td>
                <td>{mfaAgeText(client.mfaMaxAge, t, language)}</td>
                <td>{client.public ? t('applications.public') : t('applications.confidential')}</td>
                <td>
                  <span className={`badge ${disabled ? 'status-disabled' : 'status-active'}`}>
                    {disabled ? t('status.disabled') : t('status.active')}
                  </span>
                </td>
                <td className="cell-actions">
                  <div className="row-actions">
                    <button
                      type="button"
                      className="button button-small"
                      disabled={busy}
                      onClick={() => onEdit(client)}
                    >
                      {t('applications.edit')}
                      <span className="visually-hidden"> {client.name}</span>
                    </button>
                    {client.public ? null : (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={busy}
                        onClick={() => onNewSecret(client)}
                      >
                        {t('applications.newSecret')}
                        <span className="visually-hidden"> {client.name}</span>
                      </button>
                    )}
                    {disabled ? (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={busy}
                        onClick={() => onEnable(client)}
                      >
                        {t('applications.enable')}
                        <span className="visually-hidden"> {client.name}</span>
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="button button-small button-danger"
                        disabled={busy}
                        onClick={() => onDisable(client)}
                      >
                        {t('applications.disable')}
                        <span className="visually-hidden"> {client.name}</span>
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AddressList({ label, addresses }: { label: string; addresses: readonly string[] }) {
  if (addresses.length === 0) return null;
  return (
    <div className="address-group">
      <span className="muted">{label}</span>
      <ul className="plain-list">
        {addresses.map((address) => (
          <li key={address}>
            <code>{address}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What is wrong with each field, in one sentence each. */
function problemTexts(problems: ClientProblems, t: Translate) {
  const urls = (problem: ClientProblems['redirectUris']) => {
    if (problem === undefined) return undefined;
    if (problem === 'required') return t('applications.problem.redirectRequired');
    if (problem === 'tooMany') return t('applications.problem.tooMany');
    return linesProblem(t, t('applications.problem.urls'), problem.lines);
  };
  return {
    name:
      problems.name === undefined
        ? undefined
        : problems.name === 'required'
          ? t('applications.problem.nameRequired')
          : t('applications.problem.nameTooLong'),
    redirectUris: urls(problems.redirectUris),
    postLogoutRedirectUris: urls(problems.postLogoutRedirectUris),
    backchannelLogoutUri:
      problems.backchannelLogoutUri === undefined ? undefined : t('applications.problem.url'),
    mfaMaxAge: problems.mfaMaxAge === undefined ? undefined : t('applications.problem.mfaMaxAge'),
  };
}

/** Registers an application, or changes one (`editing`): keyed by it, so each opens afresh. */
function ClientForm({
  editing,
  headingRef,
  onSaved,
  onCancel,
}: {
  editing: OidcClient | undefined;
  headingRef: Ref<HTMLHeadingElement>;
  /** `secret` is undefined after a change, the new client's (null when public) after a registration. */
  onSaved: (client: OidcClient, secret: string | null | undefined) => void;
  onCancel: () => void;
}) {
  const { t, language } = useI18n();
  const [draft, setDraft] = useState<ClientDraft>(() => (editing ? draftOf(editing) : newClientDraft));
  const [problems, setProblems] = useState<ClientProblems>({});
  const saving = useAction();
  const form = useRef<HTMLFormElement>(null);
  const texts = problemTexts(problems, t);

  // After a refused submit, the first field to fix takes the focus.
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [problems]);

  const set = <K extends keyof ClientDraft>(field: K, value: ClientDraft[K]) =>
    setDraft((previous) => ({ ...previous, [field]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readClientDraft(draft);
    setProblems(read.ok ? {} : read.problems);
    if (!read.ok) return;
    if (editing) {
      const result = await saving.run(() => api.applications.update(editing.id, read.input));
      if (result.ok) onSaved(result.value.client, undefined);
    } else {
      const result = await saving.run(() => api.applications.register(read.input));
      if (result.ok) {
        setDraft(newClientDraft);
        onSaved(result.value.client, result.value.secret);
      }
    }
  };

  // The choices, with the client's own limit when it is none of them.
  const current = draft.mfaMaxAge === '' ? null : Number(draft.mfaMaxAge);
  const ages = mfaAgeChoices.includes(current) ? mfaAgeChoices : [...mfaAgeChoices, current];
  const kinds: { value: ClientKind; label: string; hint: string }[] = [
    {
      value: 'confidential',
      label: t('applications.confidential'),
      hint: t('applications.confidentialHint'),
    },
    { value: 'public', label: t('applications.public'), hint: t('applications.publicHint') },
  ];

  return (
    <section className="card" aria-labelledby="applications-form">
      <h2 id="applications-form" ref={headingRef} tabIndex={-1}>
        {editing ? t('applications.editHeading', { name: editing.name }) : t('applications.register')}
      </h2>
      <form ref={form} noValidate onSubmit={(event) => void submit(event)}>
        <TextField
          id="application-name"
          label={t('applications.name')}
          hint={t('applications.nameHint')}
          problem={texts.name}
          value={draft.name}
          onChange={(event) => set('name', event.target.value)}
          maxLength={120}
          autoComplete="off"
          required
        />
        <TextAreaField
          id="application-redirects"
          className="field-lines"
          label={t('applications.redirectUris')}
          hint={t('applications.redirectUrisHint')}
          problem={texts.redirectUris}
          value={draft.redirectUris}
          onChange={(event) => set('redirectUris', event.target.value)}
          rows={3}
          required
        />
        <TextAreaField
          id="application-logout-redirects"
          className="field-lines"
          label={t('applications.postLogoutRedirectUris')}
          hint={t('applications.postLogoutRedirectUrisHint')}
          problem={texts.postLogoutRedirectUris}
          value={draft.postLogoutRedirectUris}
          onChange={(event) => set('postLogoutRedirectUris', event.target.value)}
          rows={2}
        />
        <TextField
          id="application-backchannel"
          label={t('applications.backchannelLogoutUri')}
          hint={t('applications.backchannelLogoutUriHint')}
          problem={texts.backchannelLogoutUri}
          value={draft.backchannelLogoutUri}
          onChange={(event) => set('backchannelLogoutUri', event.target.value)}
          type="url"
          autoComplete="off"
          spellCheck={false}
        />
        <SelectField
          id="application-mfa"
          label={t('applications.mfaMaxAge')}
          hint={t('applications.mfaMaxAgeHint')}
          problem={texts.mfaMaxAge}
          value={draft.mfaMaxAge}
          onChange={(event) => set('mfaMaxAge', event.target.value)}
        >
          {ages.map((age) => (
            <option key={age ?? 'none'} value={age === null ? '' : String(age)}>
              {mfaAgeText(age, t, language)}
            </option>
          ))}
        </SelectField>
        <RadioGroupField
          name="application-kind"
          legend={t('applications.kind')}
          options={kinds}
          value={draft.kind}
          // A client cannot change between public and confidential: a new one is registered.
          disabled={editing !== undefined}
          onChange={(kind) => set('kind', kind)}
        />
        <ErrorMessage error={saving.error} />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={saving.busy}>
            {editing ? t('applications.save') : t('applications.registerSubmit')}
          </button>
          {editing ? (
            <button type="button" className="button button-quiet" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}

/** The provider's addresses and rules, for the owner of an application to configure it. */
function ProviderFacts() {
  const { t } = useI18n();
  const discovery = useLoad(() => api.oidc.discovery(), []);
  const document = discovery.data;
  return (
    <section className="card" aria-labelledby="applications-provider">
      <h2 id="applications-provider">{t('applications.provider')}</h2>
      <p className="muted">{t('applications.providerIntro')}</p>
      <ErrorMessage error={discovery.error} />
      {document ? (
        <>
          <dl className="facts">
            <dt>{t('applications.issuer')}</dt>
            <dd>
              <code data-testid="oidc-issuer">{document.issuer}</code>
            </dd>
            <dt>{t('applications.discovery')}</dt>
            <dd>
              <CopyLink
                // OpenID Connect Discovery 1.0 §4: the document sits under the issuer.
                url={`${document.issuer}/.well-known/openid-configuration`}
                testId="oidc-discovery"
                labels={{
                  copy: t('agents.copy'),
                  copied: t('agents.copied'),
                  failed: t('agents.copyFailed'),
                }}
              />
            </dd>
            {document.scopes_supported ? (
              <>
                <dt>{t('applications.scopes')}</dt>
                <dd>
                  {document.scopes_supported.map((scope, index) => (
                    <span key={scope}>
                      {index > 0 ? ' ' : null}
                      <code>{scope}</code>
                    </span>
                  ))}
                </dd>
              </>
            ) : null}
          </dl>
          <ul>
            <li>{t('applications.ruleFlow')}</li>
            <li>{t('applications.ruleClaims')}</li>
            <li>{t('applications.ruleLogout')}</li>
          </ul>
        </>
      ) : (
        <StatusMessage message={discovery.loading ? t('app.loading') : undefined} />
      )}
    </section>
  );
}

/** The keys that sign ID tokens, newest first; a rotation keeps the previous one published. */
function SigningKeys() {
  const { t } = useI18n();
  const keys = useLoad(() => api.applications.keys(), []);
  const rotating = useAction();
  const [status, setStatus] = useState<string>();

  const rotate = async () => {
    setStatus(undefined);
    const result = await rotating.run(() => api.applications.rotateKeys());
    if (!result.ok) return;
    keys.setData(() => result.value);
    setStatus(t('applications.rotated'));
  };

  return (
    <section className="card" aria-labelledby="applications-keys">
      <h2 id="applications-keys">{t('applications.keys')}</h2>
      <p className="muted">{t('applications.keysIntro')}</p>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={rotating.error ?? keys.error} />
      {keys.data ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('applications.keyId')}</th>
                <th scope="col">{t('applications.keyCreated')}</th>
                <th scope="col">{t('applications.keyRotated')}</th>
                <th scope="col">{t('applications.keyUse')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.keys.map((key) => (
                <tr key={key.kid}>
                  <th scope="row">
                    <code>{key.kid}</code>
                  </th>
                  <td>
                    <When iso={key.createdAt} />
                  </td>
                  <td>
                    <When iso={key.rotatedAt} />
                  </td>
                  <td>
                    <span className={`badge ${key.signing ? 'status-active' : 'status-disabled'}`}>
                      {key.signing ? t('applications.keySigning') : t('applications.keyPublished')}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <StatusMessage message={keys.loading ? t('app.loading') : undefined} />
      )}
      <div className="actions">
        <button
          type="button"
          className="button"
          aria-describedby="applications-rotate-hint"
          disabled={rotating.busy}
          onClick={() => void rotate()}
        >
          {t('applications.rotate')}
        </button>
      </div>
      <p id="applications-rotate-hint" className="field-hint">
        {t('applications.rotateHint')}
      </p>
    </section>
  );
}
