/**
 * Groups of clients and their policies: which categories and lists each blocks or allows, how
 * a blocked name is answered, and the device profiles generated from it (an Apple
 * .mobileconfig, an Android Management API policy), to download per group.
 */
import { DEFAULT_GROUP_ID, type DevicePlatform, type Group, type GroupInput } from '@rempart/core';
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { GroupForm } from '../components/netguard/group-form';
import { ServerDetail } from '../components/netguard/server-detail';
import { NetguardFrame } from '../components/netguard/netguard-frame';
import { saveFile } from '../components/netguard/save-file';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';

type Editing = { group: Group | undefined } | undefined;

function GroupRow({
  group,
  listNames,
  busy,
  onEdit,
  onDelete,
  onDownload,
}: {
  group: Group;
  listNames: ReadonlyMap<string, string>;
  busy: boolean;
  onEdit: () => void;
  onDelete: () => void;
  onDownload: (platform: DevicePlatform) => void;
}) {
  const { t, formatDateTime } = useI18n();
  const isDefault = group.id === DEFAULT_GROUP_ID;
  const name = <span className="visually-hidden"> {group.name}</span>;
  return (
    <tr>
      <th scope="row">
        {group.name}
        <br />
        <code className="muted">{group.id}</code>
        {group.description === '' ? null : <p className="details">{group.description}</p>}
      </th>
      <td>
        {isDefault ? (
          <span className="muted">{t('netguard.groups.everyoneElse')}</span>
        ) : group.cidrs.length === 0 ? (
          <span className="muted">{t('netguard.groups.noRanges')}</span>
        ) : (
          <ul className="plain-list">
            {group.cidrs.map((cidr) => (
              <li key={cidr}>
                <code>{cidr}</code>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {group.categories.length === 0 && group.lists.length === 0 ? (
          <span className="muted">{t('netguard.groups.nothingBlocked')}</span>
        ) : (
          <ul className="plain-list">
            {group.categories.map((id) => (
              <li key={id}>{t(`netguard.category.${id}`)}</li>
            ))}
            {group.lists.map((id) => (
              <li key={id}>{listNames.get(id) ?? t('netguard.groups.missingList')}</li>
            ))}
          </ul>
        )}
      </td>
      <td>{t(`netguard.blockMode.${group.blockMode}`)}</td>
      <td>
        <ul className="plain-list">
          <li>{t(group.trusted ? 'netguard.groups.isTrusted' : 'netguard.groups.isRateLimited')}</li>
          <li>
            {t(
              group.noPrivateApps
                ? 'netguard.groups.privateAppsBlocked'
                : 'netguard.groups.privateAppsAllowed',
            )}
          </li>
        </ul>
      </td>
      <td>
        <time dateTime={group.updatedAt}>{formatDateTime(group.updatedAt)}</time>
      </td>
      <td className="cell-actions">
        <div className="row-actions">
          <button type="button" className="button button-small" disabled={busy} onClick={onEdit}>
            {t('netguard.groups.edit')}
            {name}
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={busy}
            onClick={() => onDownload('ios')}
          >
            {t('netguard.groups.downloadIos')}
            {name}
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={busy}
            onClick={() => onDownload('android')}
          >
            {t('netguard.groups.downloadAndroid')}
            {name}
          </button>
          {isDefault ? null : (
            <button
              type="button"
              className="button button-small button-danger"
              disabled={busy}
              onClick={onDelete}
            >
              {t('netguard.groups.delete')}
              {name}
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

export function NetguardGroupsPage() {
  const { t } = useI18n();
  const loaded = useLoad(
    () => Promise.all([api.netguard.groups(), api.netguard.categories(), api.netguard.lists()]),
    [],
  );
  const [editing, setEditing] = useState<Editing>();
  const [deleting, setDeleting] = useState<Group>();
  const [status, setStatus] = useState<string>();
  const saving = useAction();
  const acting = useAction();
  const formHeading = useRef<HTMLHeadingElement>(null);
  const [groupsAnswer, categoriesAnswer, listsAnswer] = loaded.data ?? [];
  const groups = groupsAnswer?.groups ?? [];
  const lists = listsAnswer?.lists ?? [];
  const listNames = new Map(lists.map((list) => [list.id, list.name]));

  // The form is what the administrator acts on next: it takes the focus when it opens.
  useEffect(() => {
    if (editing) formHeading.current?.focus();
  }, [editing]);

  const open = (group: Group | undefined) => {
    setStatus(undefined);
    saving.clearError();
    setEditing({ group });
  };

  const save = async (id: string, input: GroupInput) => {
    const creating = editing?.group === undefined;
    const result = await saving.run(() => api.netguard.saveGroup(id, input));
    if (!result.ok) return;
    setEditing(undefined);
    setStatus(
      t(creating ? 'netguard.groups.created' : 'netguard.groups.saved', { name: result.value.group.name }),
    );
    loaded.reload();
  };

  const remove = async (group: Group) => {
    const result = await acting.run(() => api.netguard.deleteGroup(group.id));
    setDeleting(undefined);
    if (!result.ok) return;
    if (editing?.group?.id === group.id) setEditing(undefined);
    setStatus(t('netguard.groups.deleted', { name: group.name }));
    loaded.reload();
  };

  const download = async (group: Group, platform: DevicePlatform) => {
    setStatus(undefined);
    const result = await acting.run(() => api.netguard.policy(platform, group.id));
    if (!result.ok) return;
    saveFile(result.value);
    setStatus(t('netguard.groups.downloaded', { file: result.value.fileName }));
  };

  return (
    <NetguardFrame section="groups">
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={acting.error ?? loaded.error} />
      <ServerDetail error={acting.error} />

      {editing && loaded.data ? (
        <GroupForm
          key={editing.group?.id ?? ''}
          group={editing.group}
          groups={groups}
          categories={categoriesAnswer?.categories ?? []}
          lists={lists}
          busy={saving.busy}
          error={saving.error}
          headingRef={formHeading}
          onSave={(id, input) => void save(id, input)}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}

      <section className="card" aria-labelledby="netguard-groups-list">
        <div className="card-head">
          <h2 id="netguard-groups-list">{t('netguard.groups.list')}</h2>
          <button
            type="button"
            className="button button-primary"
            disabled={loaded.data === undefined}
            onClick={() => open(undefined)}
          >
            {t('netguard.groups.new')}
          </button>
        </div>
        <p className="muted">{t('netguard.groups.intro')}</p>
        {loaded.data ? (
          <div className="table-wrap">
            <table className="table" data-testid="netguard-groups">
              <thead>
                <tr>
                  <th scope="col">{t('netguard.groups.name')}</th>
                  <th scope="col">{t('netguard.groups.cidrs')}</th>
                  <th scope="col">{t('netguard.groups.blocks')}</th>
                  <th scope="col">{t('netguard.groups.blockMode')}</th>
                  <th scope="col">{t('netguard.groups.options')}</th>
                  <th scope="col">{t('netguard.groups.updated')}</th>
                  <th scope="col">{t('netguard.groups.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((group) => (
                  <GroupRow
                    key={group.id}
                    group={group}
                    listNames={listNames}
                    busy={acting.busy}
                    onEdit={() => open(group)}
                    onDelete={() => setDeleting(group)}
                    onDownload={(platform) => void download(group, platform)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
        )}
        <p className="field-hint">{t('netguard.groups.profilesHint')}</p>
      </section>

      {deleting ? (
        <ConfirmDialog
          title={t('netguard.groups.deleteTitle', { name: deleting.name })}
          confirmLabel={t('netguard.groups.deleteConfirm')}
          danger
          busy={acting.busy}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          <p>{t('netguard.groups.deleteText')}</p>
        </ConfirmDialog>
      ) : null}
    </NetguardFrame>
  );
}
