/**
 * An administrator asks for a check of an agent's device. Nothing is read yet: the owner sees the
 * request, its purpose and who asked, and must consent first (in the console, or on a signed form
 * the administrator attaches); only then can the artifact be sent.
 */
import { SpywarePlatform, scanKinds } from '@rempart/core';
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { SelectField, TextField } from '../components/fields';
import { ErrorMessage } from '../components/messages';
import { TextAreaField, useFocusOnProblem } from '../components/netguard/fields';
import { SpywareFrame } from '../components/spyware/spyware-frame';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import {
  PURPOSE_MIN,
  newScanRequestDraft,
  readScanRequest,
  withPlatform,
  type ScanRequestDraft,
  type ScanRequestProblems,
} from '../spyware/request';
import { kindsFor } from '../spyware/scans';
import { spywareDevicePath } from '../spyware/sections';

export function SpywareRequestPage() {
  const { t } = useI18n();
  const [draft, setDraft] = useState<ScanRequestDraft>(newScanRequestDraft);
  const [problems, setProblems] = useState<ScanRequestProblems>({});
  const form = useFocusOnProblem(problems);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readScanRequest(draft);
    setProblems(read.ok ? {} : read.problems);
    if (!read.ok) return;
    const result = await action.run(() => api.spyware.requestScan(read.request));
    if (result.ok) navigate(spywareDevicePath(result.value.deviceId));
  };

  // Each field's problem in words; a template per field keeps every key checked at compile time.
  const words: Record<keyof ScanRequestProblems, string | undefined> = {
    owner: problems.owner && t(`spyware.request.problem.owner.${problems.owner}`),
    deviceName: problems.deviceName && t(`spyware.request.problem.deviceName.${problems.deviceName}`),
    serial: problems.serial && t(`spyware.request.problem.serial.${problems.serial}`),
    kind: problems.kind && t(`spyware.request.problem.kind.${problems.kind}`),
    purpose: problems.purpose && t(`spyware.request.problem.purpose.${problems.purpose}`),
  };
  const problem = (field: keyof ScanRequestProblems): string | undefined => words[field];

  return (
    <SpywareFrame section="request">
      <section className="card" aria-labelledby="spyware-request">
        <h2 id="spyware-request">{t('spyware.request.title')}</h2>
        <div className="message message-info">
          <p>{t('spyware.request.consentFirst')}</p>
        </div>
        <form
          ref={form}
          className="form-grid"
          noValidate
          data-testid="spyware-request-form"
          onSubmit={(event) => void submit(event)}
        >
          <TextField
            id="spyware-request-owner"
            type="email"
            label={t('spyware.request.owner')}
            hint={t('spyware.request.ownerHint')}
            problem={problem('owner')}
            autoComplete="off"
            required
            value={draft.owner}
            onChange={(event) => setDraft({ ...draft, owner: event.target.value })}
          />
          <TextField
            id="spyware-request-device"
            label={t('spyware.request.device')}
            hint={t('spyware.request.deviceHint')}
            problem={problem('deviceName')}
            autoComplete="off"
            required
            maxLength={120}
            value={draft.deviceName}
            onChange={(event) => setDraft({ ...draft, deviceName: event.target.value })}
          />
          <SelectField
            id="spyware-request-platform"
            label={t('spyware.request.platform')}
            value={draft.platform}
            onChange={(event) => {
              const platform = SpywarePlatform.safeParse(event.target.value);
              if (platform.success) setDraft(withPlatform(draft, platform.data));
            }}
          >
            {SpywarePlatform.options.map((platform) => (
              <option key={platform} value={platform}>
                {t(`spyware.platform.${platform}`)}
              </option>
            ))}
          </SelectField>
          <SelectField
            id="spyware-request-kind"
            label={t('spyware.request.kind')}
            hint={t(`spyware.kindHint.${draft.kind}`)}
            problem={problem('kind')}
            value={draft.kind}
            onChange={(event) => {
              const kind = scanKinds.find((value) => value === event.target.value);
              if (kind) setDraft({ ...draft, kind });
            }}
          >
            {kindsFor(draft.platform).map((kind) => (
              <option key={kind} value={kind}>
                {t(`spyware.kind.${kind}`)}
              </option>
            ))}
          </SelectField>
          <TextField
            id="spyware-request-serial"
            label={t('spyware.request.serial')}
            hint={t('spyware.request.serialHint')}
            problem={problem('serial')}
            autoComplete="off"
            maxLength={64}
            value={draft.serial}
            onChange={(event) => setDraft({ ...draft, serial: event.target.value })}
          />
          <TextAreaField
            id="spyware-request-purpose"
            className="form-grid-wide"
            label={t('spyware.request.purpose')}
            hint={t('spyware.request.purposeHint', { min: PURPOSE_MIN })}
            problem={problem('purpose')}
            rows={4}
            maxLength={1000}
            required
            value={draft.purpose}
            onChange={(event) => setDraft({ ...draft, purpose: event.target.value })}
          />
          <div className="form-grid-wide">
            <ErrorMessage error={action.error} />
            <button type="submit" className="button button-primary" disabled={action.busy}>
              {action.busy ? t('spyware.request.sending') : t('spyware.request.submit')}
            </button>
          </div>
        </form>
      </section>
    </SpywareFrame>
  );
}
