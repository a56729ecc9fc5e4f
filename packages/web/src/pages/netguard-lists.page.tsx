/**
 * Block lists and allow-lists: upload one (a hosts file, one name a line, or adblock rules),
 * see the lines the server could not read, replace its text (the groups using it switch at
 * once), delete one no group uses; and the categories that ship with Rempart, read-only.
 */
import { NETGUARD_LIST_MAX_BYTES, type Category, type NetguardList } from '@rempart/core';
import { useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { FileField, SelectField, TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { fileProblem, useFocusOnProblem } from '../components/netguard/fields';
import { ServerDetail } from '../components/netguard/server-detail';
import { ListProblems } from '../components/netguard/list-problems';
import { NetguardFrame } from '../components/netguard/netguard-frame';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { formatSize } from '../leakcheck/image';
import {
  listActions,
  listFormats,
  listProblemsOf,
  listUsers,
  nameFromFile,
  newListUploadDraft,
  readListUpload,
  type ListUploadDraft,
} from '../netguard/lists';

/** The outcome of an upload or a replacement: the list as stored, and what could not be read. */
interface Stored {
  list: NetguardList;
  replaced: boolean;
}

function StoredList({ stored }: { stored: Stored }) {
  const { t, formatNumber } = useI18n();
  const { list } = stored;
  return (
    <section
      className="card card-important"
      aria-labelledby="netguard-list-stored"
      data-testid="netguard-list-stored"
    >
      <h2 id="netguard-list-stored">{list.name}</h2>
      <p>
        {t(stored.replaced ? 'netguard.lists.replacedSummary' : 'netguard.lists.storedSummary', {
          rules: formatNumber(list.rules),
          problems: formatNumber(list.problemCount),
        })}
      </p>
      <ListProblems
        problems={list.problems}
        total={list.problemCount}
        caption={t('netguard.lists.problemsCaption')}
      />
    </section>
  );
}

function UploadForm({ onStored }: { onStored: (list: NetguardList) => void }) {
  const { t, language } = useI18n();
  const [draft, setDraft] = useState<ListUploadDraft>(newListUploadDraft);
  const [file, setFile] = useState<File>();
  const [named, setNamed] = useState(false);
  const [problems, setProblems] = useState<{ name?: string; file?: string }>({});
  const form = useFocusOnProblem(problems);
  const uploading = useAction();
  const input = useRef<HTMLInputElement>(null);
  const refused = listProblemsOf(uploading.error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readListUpload(draft);
    const found = {
      ...(read.ok ? {} : { name: t(`netguard.lists.nameProblem.${read.problems.name}`) }),
      file: fileProblem(file, t, language),
    };
    setProblems(found);
    if (!read.ok || file === undefined || found.file !== undefined) return;
    const result = await uploading.run(() => api.netguard.uploadList(file, read.query));
    if (!result.ok) return;
    setDraft(newListUploadDraft);
    setFile(undefined);
    setNamed(false);
    if (input.current) input.current.value = '';
    onStored(result.value.list);
  };

  return (
    <section className="card" aria-labelledby="netguard-list-upload">
      <h2 id="netguard-list-upload">{t('netguard.lists.upload')}</h2>
      <p className="muted">{t('netguard.lists.uploadIntro')}</p>
      <form ref={form} className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        <FileField
          ref={input}
          id="netguard-list-file"
          className="form-grid-wide"
          label={t('netguard.lists.file')}
          hint={t('netguard.lists.fileHint', { max: formatSize(NETGUARD_LIST_MAX_BYTES, language) })}
          problem={problems.file}
          accept=".txt,.hosts,.list,.conf,text/plain"
          onFile={(chosen) => {
            setFile(chosen);
            // The file names the list until the administrator does.
            if (chosen && (!named || draft.name.trim() === ''))
              setDraft((previous) => ({ ...previous, name: nameFromFile(chosen.name) }));
          }}
        />
        <TextField
          id="netguard-list-name"
          label={t('netguard.lists.name')}
          problem={problems.name}
          autoComplete="off"
          required
          maxLength={120}
          value={draft.name}
          onChange={(event) => {
            setNamed(true);
            setDraft({ ...draft, name: event.target.value });
          }}
        />
        <SelectField
          id="netguard-list-action"
          label={t('netguard.lists.action')}
          hint={t(`netguard.lists.actionHint.${draft.action}`)}
          value={draft.action}
          onChange={(event) => {
            const action = listActions.find((value) => value === event.target.value);
            if (action) setDraft({ ...draft, action });
          }}
        >
          {listActions.map((action) => (
            <option key={action} value={action}>
              {t(`netguard.listAction.${action}`)}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="netguard-list-format"
          label={t('netguard.lists.format')}
          hint={t(`netguard.listFormatHint.${draft.format}`)}
          value={draft.format}
          onChange={(event) => {
            const format = listFormats.find((value) => value === event.target.value);
            if (format) setDraft({ ...draft, format });
          }}
        >
          {listFormats.map((format) => (
            <option key={format} value={format}>
              {t(`netguard.listFormat.${format}`)}
            </option>
          ))}
        </SelectField>
        <div className="form-grid-wide">
          <ErrorMessage error={uploading.error} />
          {refused === undefined ? (
            <ServerDetail error={uploading.error} />
          ) : (
            <ListProblems problems={refused} caption={t('netguard.lists.problemsCaption')} />
          )}
          <button type="submit" className="button button-primary" disabled={uploading.busy}>
            {uploading.busy ? t('netguard.lists.uploading') : t('netguard.lists.uploadSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Categories({ categories }: { categories: readonly Category[] }) {
  const { t, formatNumber } = useI18n();
  return (
    <section className="card" aria-labelledby="netguard-categories">
      <h2 id="netguard-categories">{t('netguard.lists.categories')}</h2>
      <p className="muted">{t('netguard.lists.categoriesIntro')}</p>
      <div className="table-wrap">
        <table className="table" data-testid="netguard-categories">
          <thead>
            <tr>
              <th scope="col">{t('netguard.lists.category')}</th>
              <th scope="col" className="cell-number">
                {t('netguard.lists.domains')}
              </th>
              <th scope="col">{t('netguard.lists.androidApps')}</th>
              <th scope="col">{t('netguard.lists.iosApps')}</th>
              <th scope="col">{t('netguard.lists.source')}</th>
            </tr>
          </thead>
          <tbody>
            {categories.map((category) => (
              <tr key={category.id}>
                <th scope="row">
                  {t(`netguard.category.${category.id}`)}
                  <p className="details">{t(`netguard.categoryHint.${category.id}`)}</p>
                </th>
                <td className="cell-number">{formatNumber(category.domains)}</td>
                {[category.apps.android, category.apps.ios].map((apps, index) => (
                  <td key={index}>
                    {apps.length === 0 ? (
                      <span className="muted">{t('netguard.lists.noApps')}</span>
                    ) : (
                      <ul className="plain-list app-ids">
                        {apps.map((app) => (
                          <li key={app}>
                            <code>{app}</code>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                ))}
                <td className="cell-break details">{category.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function NetguardListsPage() {
  const { t, language, formatNumber, formatDateTime } = useI18n();
  const loaded = useLoad(
    () => Promise.all([api.netguard.lists(), api.netguard.groups(), api.netguard.categories()]),
    [],
  );
  const [stored, setStored] = useState<Stored>();
  const [status, setStatus] = useState<string>();
  const [replacing, setReplacing] = useState<NetguardList>();
  const [deleting, setDeleting] = useState<NetguardList>();
  const [refusal, setRefusal] = useState<string>();
  const acting = useAction();
  const replaceInput = useRef<HTMLInputElement>(null);
  const [listsAnswer, groupsAnswer, categoriesAnswer] = loaded.data ?? [];
  const groups = groupsAnswer?.groups ?? [];
  const refused = listProblemsOf(acting.error);

  const clear = () => {
    setStatus(undefined);
    setRefusal(undefined);
    acting.clearError();
  };

  const replace = async (list: NetguardList, file: File) => {
    const problem = fileProblem(file, t, language);
    if (problem !== undefined) {
      setRefusal(problem);
      return;
    }
    const result = await acting.run(() => api.netguard.replaceList(list.id, file));
    if (!result.ok) return;
    setStored({ list: result.value.list, replaced: true });
    loaded.reload();
  };

  const remove = async (list: NetguardList) => {
    const result = await acting.run(() => api.netguard.deleteList(list.id));
    setDeleting(undefined);
    if (!result.ok) return;
    if (stored?.list.id === list.id) setStored(undefined);
    setStatus(t('netguard.lists.deleted', { name: list.name }));
    loaded.reload();
  };

  return (
    <NetguardFrame section="lists">
      <UploadForm
        onStored={(list) => {
          clear();
          setStored({ list, replaced: false });
          loaded.reload();
        }}
      />
      {stored ? <StoredList key={`${stored.list.id} ${stored.list.updatedAt}`} stored={stored} /> : null}

      <section className="card" aria-labelledby="netguard-lists">
        <h2 id="netguard-lists">{t('netguard.lists.stored')}</h2>
        <StatusMessage tone="success" message={status} />
        <div role="alert" aria-atomic="true" className={refusal ? 'message message-error' : 'message-empty'}>
          {refusal}
        </div>
        <ErrorMessage error={acting.error ?? loaded.error} />
        {refused === undefined ? (
          <ServerDetail error={acting.error} />
        ) : (
          <ListProblems problems={refused} caption={t('netguard.lists.problemsCaption')} />
        )}
        <input
          ref={replaceInput}
          type="file"
          accept=".txt,.hosts,.list,.conf,text/plain"
          hidden
          data-testid="netguard-replace-file"
          onChange={(event) => {
            const file = event.target.files?.[0];
            const list = replacing;
            event.target.value = '';
            setReplacing(undefined);
            if (file && list) void replace(list, file);
          }}
        />
        {listsAnswer === undefined ? (
          <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
        ) : listsAnswer.lists.length === 0 ? (
          <p className="empty">{t('netguard.lists.empty')}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="netguard-lists">
              <thead>
                <tr>
                  <th scope="col">{t('netguard.lists.name')}</th>
                  <th scope="col">{t('netguard.lists.action')}</th>
                  <th scope="col">{t('netguard.lists.format')}</th>
                  <th scope="col" className="cell-number">
                    {t('netguard.lists.rules')}
                  </th>
                  <th scope="col" className="cell-number">
                    {t('netguard.lists.problems')}
                  </th>
                  <th scope="col">{t('netguard.lists.usedBy')}</th>
                  <th scope="col">{t('netguard.lists.updated')}</th>
                  <th scope="col">{t('netguard.lists.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {listsAnswer.lists.map((list) => {
                  const users = listUsers(list.id, groups);
                  const fromFile = list.source.kind === 'file' ? list.source.path : undefined;
                  const name = <span className="visually-hidden"> {list.name}</span>;
                  return (
                    <tr key={list.id}>
                      <th scope="row" className="cell-break">
                        {list.name}
                        {fromFile === undefined ? null : (
                          <p className="details">{t('netguard.lists.fromFile', { path: fromFile })}</p>
                        )}
                        {list.problems.length > 0 ? (
                          <details className="list-problems-toggle">
                            <summary>{t('netguard.lists.showProblems')}</summary>
                            <ListProblems
                              problems={list.problems}
                              total={list.problemCount}
                              caption={t('netguard.lists.problemsOf', { name: list.name })}
                            />
                          </details>
                        ) : null}
                      </th>
                      <td>
                        <span className={`badge rule-${list.action}`}>
                          {t(`netguard.listAction.${list.action}`)}
                        </span>
                      </td>
                      <td>{t(`netguard.listFormat.${list.format}`)}</td>
                      <td className="cell-number">{formatNumber(list.rules)}</td>
                      <td className="cell-number">{formatNumber(list.problemCount)}</td>
                      <td>
                        {users.length === 0 ? (
                          <span className="muted">{t('netguard.lists.unused')}</span>
                        ) : (
                          users.join(', ')
                        )}
                      </td>
                      <td>
                        <time dateTime={list.updatedAt}>{formatDateTime(list.updatedAt)}</time>
                      </td>
                      <td className="cell-actions">
                        <div className="row-actions">
                          <button
                            type="button"
                            className="button button-small"
                            disabled={acting.busy || fromFile !== undefined}
                            title={fromFile === undefined ? undefined : t('netguard.lists.fileManaged')}
                            onClick={() => {
                              clear();
                              setReplacing(list);
                              replaceInput.current?.click();
                            }}
                          >
                            {t('netguard.lists.replace')}
                            {name}
                          </button>
                          <button
                            type="button"
                            className="button button-small button-danger"
                            disabled={acting.busy || users.length > 0}
                            aria-describedby={users.length > 0 ? `netguard-list-${list.id}-inuse` : undefined}
                            onClick={() => {
                              clear();
                              setDeleting(list);
                            }}
                          >
                            {t('netguard.lists.delete')}
                            {name}
                          </button>
                        </div>
                        {users.length > 0 ? (
                          <p id={`netguard-list-${list.id}-inuse`} className="field-hint">
                            {t('netguard.lists.inUse')}
                          </p>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {categoriesAnswer ? <Categories categories={categoriesAnswer.categories} /> : null}

      {deleting ? (
        <ConfirmDialog
          title={t('netguard.lists.deleteTitle', { name: deleting.name })}
          confirmLabel={t('netguard.lists.deleteConfirm')}
          danger
          busy={acting.busy}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          <p>{t('netguard.lists.deleteText')}</p>
        </ConfirmDialog>
      ) : null}
    </NetguardFrame>
  );
}
