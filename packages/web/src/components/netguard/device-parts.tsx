import type { Device, InventoryReport, MdmImportResult } from '@rempart/core';
import { useState, type FormEvent, type Ref } from 'react';
import { useI18n, type Translate } from '../../i18n';
import {
  INVENTORY_MAX_ADDRESSES,
  INVENTORY_MAX_APPS,
  complianceOf,
  inventoryDraftOf,
  mdmLineProblems,
  mdmRefusedLines,
  readInventoryDraft,
  type InventoryDraft,
  type InventoryProblems,
} from '../../netguard/devices';
import { isCategoryId } from '../../netguard/stats';
import { CopyLink } from '../copy-link';
import { TextField } from '../fields';
import { ErrorMessage } from '../messages';
import { TextAreaField, linesProblem, useFocusOnProblem } from './fields';
import { ServerDetail } from './server-detail';
import { ListProblems } from './list-problems';

/** A device's compliance in words (and colour): compliant, not compliant, or not reported yet. */
export function ComplianceBadge({ device }: { device: Pick<Device, 'compliant'> }) {
  const { t } = useI18n();
  const compliance = complianceOf(device);
  return <span className={`badge compliance-${compliance}`}>{t(`netguard.compliance.${compliance}`)}</span>;
}

/** The apps that make a device not compliant, and why each one does. */
export function Violations({ device }: { device: Pick<Device, 'violations'> }) {
  const { t } = useI18n();
  if (device.violations.length === 0) return null;
  return (
    <ul className="violations">
      {device.violations.map((violation) => (
        <li key={violation.app}>
          <code>{violation.app}</code>{' '}
          {violation.reason === 'blocked'
            ? violation.category !== undefined && isCategoryId(violation.category)
              ? t('netguard.devices.blockedIn', { category: t(`netguard.category.${violation.category}`) })
              : t('netguard.devices.blockedApp')
            : t('netguard.devices.notInCatalogue')}
        </li>
      ))}
    </ul>
  );
}

/**
 * A device's token, right after its enrolment: shown here once and never again (the server
 * keeps only its hash), with the way the device reports with it.
 */
export function DeviceToken({
  device,
  token,
  headingRef,
  onDone,
}: {
  device: Device;
  token: string;
  headingRef?: Ref<HTMLHeadingElement>;
  onDone: () => void;
}) {
  const { t } = useI18n();
  return (
    <section
      className="card card-important"
      aria-labelledby="netguard-token-heading"
      data-testid="netguard-token"
    >
      <h2 id="netguard-token-heading" ref={headingRef} tabIndex={-1}>
        {t('netguard.devices.tokenHeading', { name: device.name })}
      </h2>
      <p>{t('netguard.devices.tokenIntro')}</p>
      <CopyLink
        url={token}
        testId="netguard-device-token"
        labels={{
          copy: t('netguard.devices.copyToken'),
          copied: t('netguard.devices.tokenCopied'),
          failed: t('netguard.devices.tokenCopyFailed'),
        }}
      />
      <p className="field-hint">
        {t('netguard.devices.tokenUse')} <code>POST /api/netguard/inventory</code>,{' '}
        <code>Authorization: Bearer …</code>
      </p>
      <div className="actions">
        <button type="button" className="button" onClick={onDone}>
          {t('netguard.devices.tokenDone')}
        </button>
      </div>
    </section>
  );
}

function inventoryProblemText(
  problems: InventoryProblems,
  t: Translate,
): { apps?: string; addresses?: string; osVersion?: string } {
  const apps = problems.apps;
  const addresses = problems.addresses;
  return {
    ...(apps === undefined
      ? {}
      : {
          apps:
            apps === 'none'
              ? t('netguard.inventory.appsNone')
              : apps === 'tooMany'
                ? t('netguard.inventory.appsTooMany', { max: INVENTORY_MAX_APPS })
                : linesProblem(t, t('netguard.inventory.appsInvalid'), apps.lines),
        }),
    ...(addresses === undefined
      ? {}
      : {
          addresses:
            addresses === 'tooMany'
              ? t('netguard.inventory.addressesTooMany', { max: INVENTORY_MAX_ADDRESSES })
              : linesProblem(t, t('netguard.inventory.addressesInvalid'), addresses.lines),
        }),
    ...(problems.osVersion === undefined ? {} : { osVersion: t('netguard.inventory.osVersionTooLong') }),
  };
}

/**
 * The apps installed on a device, pasted from an MDM export (one bundle id or package name a
 * line): the server judges them against the device's group and answers with its compliance.
 */
export function InventoryForm({
  device,
  busy,
  error,
  headingRef,
  onImport,
  onCancel,
}: {
  device: Device;
  busy: boolean;
  error: unknown;
  headingRef?: Ref<HTMLHeadingElement>;
  onImport: (report: InventoryReport) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<InventoryDraft>(() => inventoryDraftOf(device));
  const [problems, setProblems] = useState<InventoryProblems>({});
  const form = useFocusOnProblem(problems);
  const text = inventoryProblemText(problems, t);
  const prefix = `netguard-inventory-${device.id}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const read = readInventoryDraft(draft);
    if (!read.ok) {
      setProblems(read.problems);
      return;
    }
    setProblems({});
    onImport(read.report);
  };

  return (
    <section
      className="card card-important"
      aria-labelledby={`${prefix}-heading`}
      data-testid="netguard-inventory"
    >
      <h2 id={`${prefix}-heading`} ref={headingRef} tabIndex={-1}>
        {t('netguard.inventory.heading', { name: device.name })}
      </h2>
      <p className="muted">{t('netguard.inventory.intro')}</p>
      <form ref={form} className="form-grid" noValidate onSubmit={submit}>
        <TextAreaField
          id={`${prefix}-apps`}
          className="form-grid-wide field-lines"
          label={t('netguard.inventory.apps')}
          hint={t(
            device.platform === 'ios'
              ? 'netguard.inventory.appsHintIos'
              : 'netguard.inventory.appsHintAndroid',
          )}
          problem={text.apps}
          rows={8}
          required
          value={draft.apps}
          onChange={(event) => setDraft({ ...draft, apps: event.target.value })}
        />
        <TextAreaField
          id={`${prefix}-addresses`}
          className="field-lines"
          label={t('netguard.inventory.addresses')}
          hint={t('netguard.inventory.addressesHint')}
          problem={text.addresses}
          rows={3}
          value={draft.addresses}
          onChange={(event) => setDraft({ ...draft, addresses: event.target.value })}
        />
        <TextField
          id={`${prefix}-os`}
          label={t('netguard.inventory.osVersion')}
          hint={t('netguard.inventory.osVersionHint')}
          problem={text.osVersion}
          autoComplete="off"
          maxLength={64}
          value={draft.osVersion}
          onChange={(event) => setDraft({ ...draft, osVersion: event.target.value })}
        />
        <div className="form-grid-wide">
          <ErrorMessage error={error} />
          <div className="actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {t('netguard.inventory.submit')}
            </button>
            <button type="button" className="button button-quiet" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}

/**
 * What an MDM export did: how many devices it updated and enrolled, the ones found not compliant
 * with the apps at fault, and the lines the server could not read.
 */
export function MdmImported({
  result,
  headingRef,
}: {
  result: MdmImportResult;
  headingRef?: Ref<HTMLHeadingElement>;
}) {
  const { t, formatNumber } = useI18n();
  const unread = result.errors.length + result.errorsOmitted;
  return (
    <section
      className="card card-important"
      aria-labelledby="netguard-mdm-imported"
      data-testid="netguard-mdm-imported"
    >
      <h2 id="netguard-mdm-imported" ref={headingRef} tabIndex={-1}>
        {t('netguard.mdm.imported')}
      </h2>
      <p>
        {t('netguard.mdm.summary', {
          updated: formatNumber(result.updated),
          enrolled: formatNumber(result.enrolled),
          problems: formatNumber(unread),
        })}
      </p>
      {result.notCompliant.length === 0 ? (
        <p>{t('netguard.mdm.allCompliant')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="netguard-mdm-not-compliant">
            <caption className="table-caption">{t('netguard.mdm.notCompliant')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('netguard.devices.name')}</th>
                <th scope="col">{t('netguard.mdm.apps')}</th>
              </tr>
            </thead>
            <tbody>
              {result.notCompliant.map((entry, index) => (
                <tr key={`${entry.device} ${index}`} className="row-broken">
                  <th scope="row">{entry.device}</th>
                  <td>
                    <ul className="plain-list app-ids">
                      {entry.apps.map((app) => (
                        <li key={app}>
                          <code>{app}</code>
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ListProblems
        problems={mdmLineProblems(result.errors)}
        total={unread}
        caption={t('netguard.lists.problemsCaption')}
      />
    </section>
  );
}

/**
 * Why the server refused an MDM export: no device could be read, and the lines it could not
 * read; or, for any other refusal, the server's own words.
 */
export function MdmImportRefusal({ error }: { error: unknown }) {
  const { t } = useI18n();
  const lines = mdmRefusedLines(error);
  if (lines === undefined) return <ServerDetail error={error} />;
  return (
    <>
      <p className="field-hint server-detail">{t('netguard.mdm.nothingRead')}</p>
      <ListProblems problems={lines} caption={t('netguard.lists.problemsCaption')} />
    </>
  );
}
