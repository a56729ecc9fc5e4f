/**
 * What an administrator does with a scan once the owner was asked: attach the owner's signed form
 * when they consented on paper, then send the artifact and follow its upload and its reading.
 */
import type { Scan } from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, maxBytes, type UploadProgress } from '../../api';
import { useAction } from '../../hooks';
import { useI18n } from '../../i18n';
import { formatSize } from '../../leakcheck/image';
import { consentFormType, fractionDone, looksLikeZip, takesBackupPassword } from '../../spyware/scans';
import { FileField, TextField } from '../fields';
import { ErrorMessage } from '../messages';
import { ProgressBar } from './progress-bar';

export function ConsentFormUpload({ scan, onChange }: { scan: Scan; onChange: (scan: Scan) => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File>();
  const [problem, setProblem] = useState<string>();
  const action = useAction();
  const input = useRef<HTMLInputElement>(null);
  const id = `consent-form-${scan.id}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (file === undefined) {
      setProblem(t('spyware.consentForm.required'));
      input.current?.focus();
      return;
    }
    const type = consentFormType(file);
    if (type === undefined || file.size === 0) {
      setProblem(t('spyware.consentForm.wrongType', { name: file.name }));
      input.current?.focus();
      return;
    }
    setProblem(undefined);
    const result = await action.run(() => api.spyware.attachConsentForm(scan.id, file, file.name, type));
    if (result.ok) onChange(result.value);
  };

  return (
    <form className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
      <FileField
        ref={input}
        id={id}
        className="form-grid-wide"
        label={t('spyware.consentForm.file')}
        hint={t('spyware.consentForm.hint')}
        problem={problem}
        accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
        onFile={(chosen) => {
          setFile(chosen);
          setProblem(undefined);
        }}
      />
      <div className="form-grid-wide">
        <ErrorMessage error={action.error} />
        <button type="submit" className="button" disabled={action.busy}>
          {action.busy ? t('spyware.consentForm.attaching') : t('spyware.consentForm.submit')}
        </button>
      </div>
    </form>
  );
}

export function ArtifactUpload({ scan, onChange }: { scan: Scan; onChange: (scan: Scan) => void }) {
  const { t, language } = useI18n();
  const [file, setFile] = useState<File>();
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string>();
  const [progress, setProgress] = useState<UploadProgress>();
  const action = useAction();
  const input = useRef<HTMLInputElement>(null);
  const upload = useRef<AbortController | undefined>(undefined);
  const id = `artifact-${scan.id}`;
  const tooLarge = action.error instanceof ApiError ? maxBytes(action.error) : undefined;

  // Leaving the page stops an upload under way: nobody would see where it went.
  useEffect(() => () => upload.current?.abort(), []);
  const withPassword = takesBackupPassword(scan.kind);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const refusal =
      file === undefined
        ? t('spyware.upload.required')
        : file.size === 0
          ? t('spyware.upload.empty', { name: file.name })
          : looksLikeZip(file)
            ? undefined
            : t('spyware.upload.notZip', { name: file.name });
    setProblem(refusal);
    if (refusal !== undefined || file === undefined) {
      input.current?.focus();
      return;
    }
    setProgress({ loaded: 0, total: file.size });
    const controller = new AbortController();
    upload.current = controller;
    const result = await action.run(() =>
      api.spyware.uploadArtifact(scan.id, file, {
        ...(withPassword ? { password } : {}),
        onProgress: setProgress,
        signal: controller.signal,
      }),
    );
    upload.current = undefined;
    setProgress(undefined);
    if (!result.ok) return;
    setPassword('');
    onChange(result.value);
  };

  return (
    <form className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
      <FileField
        ref={input}
        id={id}
        className="form-grid-wide"
        label={t('spyware.upload.file')}
        hint={t(`spyware.upload.hint.${scan.kind}`)}
        problem={problem}
        accept=".zip,application/zip"
        disabled={action.busy}
        onFile={(chosen) => {
          setFile(chosen);
          setProblem(undefined);
        }}
      />
      {withPassword ? (
        <TextField
          id={`${id}-password`}
          type="password"
          label={t('spyware.upload.password')}
          hint={t('spyware.upload.passwordHint')}
          autoComplete="off"
          disabled={action.busy}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      ) : null}
      <div className="form-grid-wide">
        {progress === undefined ? null : (
          <ProgressBar
            testId="spyware-upload-progress"
            label={t('spyware.upload.sending', { name: file?.name ?? '' })}
            fraction={fractionDone(progress.loaded, progress.total)}
            detail={t('spyware.upload.sent', {
              sent: formatSize(progress.loaded, language),
              size: formatSize(progress.total, language),
            })}
          />
        )}
        {tooLarge === undefined || file === undefined ? (
          <ErrorMessage error={action.error} />
        ) : (
          <div role="alert" aria-atomic="true" className="message message-error">
            {t('spyware.upload.tooLarge', {
              name: file.name,
              size: formatSize(file.size, language),
              max: formatSize(tooLarge, language),
            })}
          </div>
        )}
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={action.busy}>
            {action.busy ? t('spyware.upload.uploading') : t('spyware.upload.submit')}
          </button>
          {action.busy ? (
            <button type="button" className="button button-quiet" onClick={() => upload.current?.abort()}>
              {t('spyware.upload.cancel')}
            </button>
          ) : null}
        </div>
      </div>
    </form>
  );
}

/** The reading of an artifact under way: the module being read and how far. */
export function ScanProgress({ scan }: { scan: Scan }) {
  const { t, formatNumber } = useI18n();
  const progress = scan.progress;
  return (
    <ProgressBar
      testId="spyware-scan-progress"
      label={t('spyware.scan.reading')}
      fraction={progress === null ? undefined : fractionDone(progress.done, progress.total)}
      detail={
        progress === null
          ? t('spyware.scan.starting')
          : t('spyware.scan.readingArtifact', {
              artifact: progress.artifact,
              done: formatNumber(progress.done),
              total: formatNumber(progress.total),
            })
      }
    />
  );
}
