/**
 * Work devices and their compliance, as an MDM shows them: enrol a device in a group (its
 * reporting token is shown once), see which devices run apps their group's policy forbids, and
 * import a device's apps from an MDM export when it does not report itself, or a whole MDM
 * export at once (the devices it names and not enrolled yet are enrolled).
 */
import {
  DEFAULT_GROUP_ID,
  DevicePlatform,
  NETGUARD_LIST_MAX_BYTES,
  type Device,
  type EnrolledDevice,
  type Group,
  type InventoryReport,
  type MdmImportResult,
} from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { z } from 'zod';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { FileField, SelectField, TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import {
  ComplianceBadge,
  DeviceToken,
  InventoryForm,
  MdmImportRefusal,
  MdmImported,
  Violations,
} from '../components/netguard/device-parts';
import { fileProblem, useFocusOnProblem } from '../components/netguard/fields';
import { ServerDetail } from '../components/netguard/server-detail';
import { NetguardFrame } from '../components/netguard/netguard-frame';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { formatSize } from '../leakcheck/image';
import {
  complianceOf,
  newEnrolmentDraft,
  readEnrolmentDraft,
  sortDevices,
  type EnrolmentDraft,
  type EnrolmentProblems,
} from '../netguard/devices';

type Enrolled = z.infer<typeof EnrolledDevice>;

function EnrolForm({
  groups,
  onEnrolled,
}: {
  groups: readonly Pick<Group, 'id' | 'name'>[];
  onEnrolled: (enrolled: Enrolled) => void;
}) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<EnrolmentDraft>(newEnrolmentDraft);
  const [problems, setProblems] = useState<EnrolmentProblems>({});
  const form = useFocusOnProblem(problems);
  const enrolling = useAction();
  const update = (change: Partial<EnrolmentDraft>) => setDraft((previous) => ({ ...previous, ...change }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readEnrolmentDraft(draft);
    if (!read.ok) {
      setProblems(read.problems);
      return;
    }
    setProblems({});
    const result = await enrolling.run(() => api.netguard.enrolDevice(read.enrolment));
    if (!result.ok) return;
    setDraft({ ...newEnrolmentDraft, platform: draft.platform, group: draft.group });
    onEnrolled(result.value);
  };

  return (
    <section className="card" aria-labelledby="netguard-enrol">
      <h2 id="netguard-enrol">{t('netguard.devices.enrol')}</h2>
      <p className="muted">{t('netguard.devices.enrolIntro')}</p>
      <form ref={form} className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        <TextField
          id="netguard-device-name"
          label={t('netguard.devices.name')}
          hint={t('netguard.devices.nameHint')}
          problem={
            problems.name === undefined ? undefined : t(`netguard.devices.nameProblem.${problems.name}`)
          }
          autoComplete="off"
          required
          maxLength={120}
          value={draft.name}
          onChange={(event) => update({ name: event.target.value })}
        />
        <SelectField
          id="netguard-device-platform"
          label={t('netguard.devices.platform')}
          value={draft.platform}
          onChange={(event) => {
            const platform = DevicePlatform.options.find((value) => value === event.target.value);
            if (platform) update({ platform });
          }}
        >
          {DevicePlatform.options.map((platform) => (
            <option key={platform} value={platform}>
              {t(`netguard.platform.${platform}`)}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="netguard-device-group"
          label={t('netguard.devices.group')}
          hint={t('netguard.devices.groupHint')}
          problem={problems.group === undefined ? undefined : t('netguard.devices.groupProblem')}
          value={draft.group}
          onChange={(event) => update({ group: event.target.value })}
        >
          {groups.map((group) => (
            <option key={group.id} value={group.id}>
              {group.name}
            </option>
          ))}
        </SelectField>
        <TextField
          id="netguard-device-owner"
          label={t('netguard.devices.owner')}
          hint={t('netguard.devices.ownerHint')}
          problem={problems.owner === undefined ? undefined : t('netguard.devices.ownerProblem')}
          type="email"
          autoComplete="off"
          maxLength={254}
          value={draft.owner}
          onChange={(event) => update({ owner: event.target.value })}
        />
        <TextField
          id="netguard-device-serial"
          label={t('netguard.devices.serial')}
          hint={t('netguard.devices.serialHint')}
          problem={problems.serial === undefined ? undefined : t('netguard.devices.serialProblem')}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={64}
          value={draft.serial}
          onChange={(event) => update({ serial: event.target.value })}
        />
        <div className="form-grid-wide">
          <ErrorMessage error={enrolling.error} />
          <ServerDetail error={enrolling.error} />
          <button type="submit" className="button button-primary" disabled={enrolling.busy}>
            {t('netguard.devices.enrolSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function MdmImportForm({ onImported }: { onImported: (result: MdmImportResult) => void }) {
  const { t, language } = useI18n();
  const [file, setFile] = useState<File>();
  const [problems, setProblems] = useState<{ file?: string }>({});
  const form = useFocusOnProblem(problems);
  const importing = useAction();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = { file: fileProblem(file, t, language) };
    setProblems(found);
    if (file === undefined || found.file !== undefined) return;
    const result = await importing.run(() => api.netguard.importMdmExport(file));
    if (!result.ok) return;
    setFile(undefined);
    if (input.current) input.current.value = '';
    onImported(result.value);
  };

  return (
    <section className="card" aria-labelledby="netguard-mdm-import">
      <h2 id="netguard-mdm-import">{t('netguard.mdm.heading')}</h2>
      <p className="muted">{t('netguard.mdm.intro')}</p>
      <form ref={form} className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        <FileField
          ref={input}
          id="netguard-mdm-file"
          className="form-grid-wide"
          label={t('netguard.mdm.file')}
          hint={t('netguard.mdm.fileHint', { max: formatSize(NETGUARD_LIST_MAX_BYTES, language) })}
          problem={problems.file}
          accept=".csv,.tsv,.txt,text/csv,text/plain"
          onFile={setFile}
        />
        <div className="form-grid-wide">
          <ErrorMessage error={importing.error} />
          <MdmImportRefusal error={importing.error} />
          <button type="submit" className="button button-primary" disabled={importing.busy}>
            {importing.busy ? t('netguard.mdm.importing') : t('netguard.mdm.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function DeviceRow({
  device,
  groupName,
  busy,
  onImport,
  onRemove,
}: {
  device: Device;
  groupName: string;
  busy: boolean;
  onImport: () => void;
  onRemove: () => void;
}) {
  const { t, formatDateTime, formatNumber } = useI18n();
  const compliance = complianceOf(device);
  const name = <span className="visually-hidden"> {device.name}</span>;
  return (
    <tr className={compliance === 'not-compliant' ? 'row-broken' : undefined}>
      <th scope="row">
        {device.name}
        {device.serial === null ? null : (
          <p className="details">{t('netguard.devices.serialIs', { serial: device.serial })}</p>
        )}
      </th>
      <td>
        {t(`netguard.platform.${device.platform}`)}
        {device.osVersion === null ? null : <span className="muted"> {device.osVersion}</span>}
      </td>
      <td>{groupName}</td>
      <td>{device.owner ?? <span className="muted">{t('common.none')}</span>}</td>
      <td>
        {device.lastReportAt === null ? (
          <span className="muted">{t('netguard.devices.never')}</span>
        ) : (
          <>
            <time dateTime={device.lastReportAt}>{formatDateTime(device.lastReportAt)}</time>
            <p className="details">{t('netguard.devices.appCount', { count: formatNumber(device.apps) })}</p>
          </>
        )}
      </td>
      <td>
        <ComplianceBadge device={device} />
        <Violations device={device} />
      </td>
      <td className="cell-actions">
        <div className="row-actions">
          <button type="button" className="button button-small" disabled={busy} onClick={onImport}>
            {t('netguard.devices.import')}
            {name}
          </button>
          <button
            type="button"
            className="button button-small button-danger"
            disabled={busy}
            onClick={onRemove}
          >
            {t('netguard.devices.remove')}
            {name}
          </button>
        </div>
      </td>
    </tr>
  );
}

export function NetguardDevicesPage() {
  const { t } = useI18n();
  const loaded = useLoad(() => Promise.all([api.netguard.devices(), api.netguard.groups()]), []);
  const [enrolled, setEnrolled] = useState<Enrolled>();
  const [importing, setImporting] = useState<Device>();
  const [mdmImported, setMdmImported] = useState<MdmImportResult>();
  const [removing, setRemoving] = useState<Device>();
  const [status, setStatus] = useState<string>();
  const acting = useAction();
  const importAction = useAction();
  const tokenHeading = useRef<HTMLHeadingElement>(null);
  const importHeading = useRef<HTMLHeadingElement>(null);
  const mdmHeading = useRef<HTMLHeadingElement>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const { setData } = loaded;
  const [devicesAnswer, groupsAnswer] = loaded.data ?? [];
  const groups = groupsAnswer?.groups ?? [];
  const groupNames = new Map(groups.map((group) => [group.id, group.name]));
  const devices = devicesAnswer ? sortDevices(devicesAnswer.devices) : [];

  // The token is shown once: the administrator's attention goes there first.
  useEffect(() => {
    if (enrolled) tokenHeading.current?.focus();
  }, [enrolled]);
  useEffect(() => {
    if (importing) importHeading.current?.focus();
  }, [importing]);
  // The form stays as it was: the focus goes to what the export did.
  useEffect(() => {
    if (mdmImported) mdmHeading.current?.focus();
  }, [mdmImported]);

  const replaceDevice = (device: Device) =>
    setData((previous) =>
      previous
        ? [{ devices: previous[0].devices.map((d) => (d.id === device.id ? device : d)) }, previous[1]]
        : previous,
    );

  const importInventory = async (device: Device, report: InventoryReport) => {
    setStatus(undefined);
    const result = await importAction.run(() => api.netguard.importInventory(device.id, report));
    if (!result.ok) return;
    const updated = result.value.device;
    replaceDevice(updated);
    setImporting(undefined);
    // The form is gone: the focus goes to the list, where the device's new compliance shows.
    listHeading.current?.focus();
    setStatus(
      complianceOf(updated) === 'compliant'
        ? t('netguard.devices.importedCompliant', { name: updated.name })
        : t('netguard.devices.importedViolations', {
            name: updated.name,
            apps: updated.violations.map((violation) => violation.app).join(', '),
          }),
    );
  };

  const remove = async (device: Device) => {
    const result = await acting.run(() => api.netguard.deleteDevice(device.id));
    setRemoving(undefined);
    if (!result.ok) return;
    if (importing?.id === device.id) setImporting(undefined);
    if (enrolled?.device.id === device.id) setEnrolled(undefined);
    setStatus(t('netguard.devices.removed', { name: device.name }));
    loaded.reload();
  };

  return (
    <NetguardFrame section="devices">
      {enrolled ? (
        <DeviceToken
          device={enrolled.device}
          token={enrolled.token}
          headingRef={tokenHeading}
          onDone={() => setEnrolled(undefined)}
        />
      ) : null}

      <EnrolForm
        // Until the groups arrive, the default group (every device's group unless told) is offered.
        groups={groups.length > 0 ? groups : [{ id: DEFAULT_GROUP_ID, name: DEFAULT_GROUP_ID }]}
        onEnrolled={(next) => {
          setStatus(undefined);
          setImporting(undefined);
          setEnrolled(next);
          loaded.reload();
        }}
      />

      <MdmImportForm
        onImported={(result) => {
          setStatus(undefined);
          setMdmImported(result);
          loaded.reload();
        }}
      />
      {mdmImported ? <MdmImported result={mdmImported} headingRef={mdmHeading} /> : null}

      {importing ? (
        <InventoryForm
          key={importing.id}
          device={importing}
          busy={importAction.busy}
          error={importAction.error}
          headingRef={importHeading}
          onImport={(report) => void importInventory(importing, report)}
          onCancel={() => {
            importAction.clearError();
            setImporting(undefined);
            listHeading.current?.focus();
          }}
        />
      ) : null}

      <section className="card" aria-labelledby="netguard-devices">
        <h2 id="netguard-devices" ref={listHeading} tabIndex={-1}>
          {t('netguard.devices.list')}
        </h2>
        <StatusMessage tone="success" message={status} />
        <ErrorMessage error={acting.error ?? loaded.error} />
        {devicesAnswer === undefined ? (
          <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
        ) : devices.length === 0 ? (
          <p className="empty">{t('netguard.devices.empty')}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="netguard-devices">
              <thead>
                <tr>
                  <th scope="col">{t('netguard.devices.name')}</th>
                  <th scope="col">{t('netguard.devices.platform')}</th>
                  <th scope="col">{t('netguard.devices.group')}</th>
                  <th scope="col">{t('netguard.devices.owner')}</th>
                  <th scope="col">{t('netguard.devices.lastReport')}</th>
                  <th scope="col">{t('netguard.devices.compliance')}</th>
                  <th scope="col">{t('netguard.devices.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {devices.map((device) => (
                  <DeviceRow
                    key={device.id}
                    device={device}
                    groupName={groupNames.get(device.group) ?? device.group}
                    busy={acting.busy || importAction.busy}
                    onImport={() => {
                      setStatus(undefined);
                      importAction.clearError();
                      setImporting(device);
                    }}
                    onRemove={() => setRemoving(device)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {removing ? (
        <ConfirmDialog
          title={t('netguard.devices.removeTitle', { name: removing.name })}
          confirmLabel={t('netguard.devices.removeConfirm')}
          danger
          busy={acting.busy}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(undefined)}
        >
          <p>{t('netguard.devices.removeText')}</p>
        </ConfirmDialog>
      ) : null}
    </NetguardFrame>
  );
}
