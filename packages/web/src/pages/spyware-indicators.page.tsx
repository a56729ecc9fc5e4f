/**
 * The indicators of compromise scans and the DNS guard look for: the STIX 2 bundles shipped with
 * Rempart and those an administrator imported. An import starts a retro-hunt at once: the new
 * indicators matched against the DNS query log and the stored scans, whose hits are listed here.
 */
import { IndicatorType, type IndicatorImport, type IndicatorSet, type RetroHunt } from '@rempart/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { FileField, TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { MalwareList } from '../components/spyware/badges';
import { ProgressBar } from '../components/spyware/progress-bar';
import { SpywareFrame } from '../components/spyware/spyware-frame';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { fractionDone } from '../spyware/scans';
import {
  huntsNewestFirst,
  isRemovable,
  readSetName,
  setNameFromFile,
  splitSets,
  stixRefusal,
  typeCounts,
} from '../spyware/indicators';
import { spywareDevicePath } from '../spyware/sections';

/** How often running retro-hunts are asked for again. */
const HUNT_POLL_MS = 2000;

function ImportForm({ onImported }: { onImported: (result: IndicatorImport) => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File>();
  const [name, setName] = useState('');
  const [named, setNamed] = useState(false);
  const [problems, setProblems] = useState<{ file?: string; name?: string }>({});
  const action = useAction();
  const input = useRef<HTMLInputElement>(null);
  const refusal = stixRefusal(action.error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readSetName(name);
    const found = {
      ...(file === undefined ? { file: t('spyware.indicators.fileRequired') } : {}),
      ...(file !== undefined && file.size === 0
        ? { file: t('spyware.indicators.fileEmpty', { name: file.name }) }
        : {}),
      ...(read.ok ? {} : { name: t(`spyware.indicators.nameProblem.${read.problem}`) }),
    };
    setProblems(found);
    if (file === undefined || !read.ok || found.file !== undefined) return;
    const result = await action.run(() => api.spyware.importIndicators(file, read.name));
    if (!result.ok) return;
    setFile(undefined);
    setName('');
    setNamed(false);
    if (input.current) input.current.value = '';
    onImported(result.value);
  };

  return (
    <section className="card" aria-labelledby="spyware-import">
      <h2 id="spyware-import">{t('spyware.indicators.import')}</h2>
      <p className="muted">{t('spyware.indicators.importIntro')}</p>
      <form className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        <FileField
          ref={input}
          id="spyware-bundle-file"
          className="form-grid-wide"
          label={t('spyware.indicators.file')}
          hint={t('spyware.indicators.fileHint')}
          problem={problems.file}
          accept=".stix2,.json,application/json"
          onFile={(chosen) => {
            setFile(chosen);
            // The file names the set until the administrator does.
            if (chosen && (!named || name.trim() === '')) setName(setNameFromFile(chosen.name));
          }}
        />
        <TextField
          id="spyware-bundle-name"
          label={t('spyware.indicators.name')}
          hint={t('spyware.indicators.nameHint')}
          problem={problems.name}
          autoComplete="off"
          maxLength={120}
          value={name}
          onChange={(event) => {
            setNamed(true);
            setName(event.target.value);
          }}
        />
        <div className="form-grid-wide">
          <ErrorMessage error={action.error} />
          {refusal === undefined ? null : (
            <p className="field-hint server-detail" data-testid="spyware-stix-refusal">
              {refusal.object === undefined
                ? refusal.message
                : t('spyware.indicators.refusedObject', { object: refusal.object, reason: refusal.message })}
            </p>
          )}
          <button type="submit" className="button button-primary" disabled={action.busy}>
            {action.busy ? t('spyware.indicators.importing') : t('spyware.indicators.importSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Imported({ result }: { result: IndicatorImport }) {
  const { t, formatNumber } = useI18n();
  return (
    <section
      className="card card-important"
      aria-labelledby="spyware-imported"
      data-testid="spyware-imported"
    >
      <h2 id="spyware-imported">{result.set.name}</h2>
      <p>
        {t('spyware.indicators.importedSummary', {
          count: formatNumber(result.set.indicators),
          skipped: formatNumber(result.set.skipped),
        })}
      </p>
      {result.skipped.length === 0 ? null : (
        <details className="list-problems-toggle">
          <summary>{t('spyware.indicators.showSkipped')}</summary>
          <div className="table-wrap">
            <table className="table">
              <caption className="table-caption">{t('spyware.indicators.skippedCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('spyware.indicators.skippedIndicator')}</th>
                  <th scope="col">{t('spyware.indicators.skippedReason')}</th>
                </tr>
              </thead>
              <tbody>
                {result.skipped.map((skipped, index) => (
                  <tr key={`${skipped.indicator} ${index}`}>
                    <th scope="row" className="cell-break">
                      <code>{skipped.indicator}</code>
                      {skipped.value === undefined ? null : <p className="details">{skipped.value}</p>}
                    </th>
                    <td>{skipped.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {result.skippedOmitted === 0 ? null : (
            <p className="field-hint">
              {t('spyware.indicators.skippedMore', { count: formatNumber(result.skippedOmitted) })}
            </p>
          )}
        </details>
      )}
      <p className="muted">{t('spyware.indicators.huntStarted')}</p>
    </section>
  );
}

function SetsTable({
  sets,
  caption,
  testId,
  busy,
  onRemove,
}: {
  sets: readonly IndicatorSet[];
  caption: string;
  testId: string;
  busy: boolean;
  onRemove?: (set: IndicatorSet) => void;
}) {
  const { t, formatNumber, formatDateTime } = useI18n();
  // A type newer than this console is shown as the server names it.
  const typeName = (type: string) => {
    const known = IndicatorType.safeParse(type);
    return known.success ? t(`spyware.indicatorType.${known.data}`) : type;
  };
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <caption className="table-caption">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('spyware.indicators.name')}</th>
            <th scope="col" className="cell-number">
              {t('spyware.indicators.count')}
            </th>
            <th scope="col">{t('spyware.indicators.types')}</th>
            <th scope="col">{t('spyware.indicators.malware')}</th>
            <th scope="col">{t('spyware.indicators.origin')}</th>
            {onRemove === undefined ? null : <th scope="col">{t('spyware.indicators.actions')}</th>}
          </tr>
        </thead>
        <tbody>
          {sets.map((set) => (
            <tr key={set.id}>
              <th scope="row" className="cell-break">
                {set.name}
                {set.skipped === 0 ? null : (
                  <p className="details">
                    {t('spyware.indicators.skipped', { count: formatNumber(set.skipped) })}
                  </p>
                )}
              </th>
              <td className="cell-number">{formatNumber(set.indicators)}</td>
              <td className="details">
                {typeCounts(set.byType)
                  .map(([type, count]) => `${typeName(type)} ${formatNumber(count)}`)
                  .join(' · ')}
              </td>
              <td>
                <MalwareList malware={set.malware} />
              </td>
              <td>
                {t(`spyware.origin.${set.origin}`)}
                {set.importedAt === null ? null : (
                  <p className="details">
                    {t('spyware.indicators.importedBy', {
                      who: set.importedBy ?? '—',
                      at: formatDateTime(set.importedAt),
                    })}
                  </p>
                )}
              </td>
              {onRemove === undefined ? null : (
                <td className="cell-actions">
                  {isRemovable(set) ? (
                    <button
                      type="button"
                      className="button button-small button-danger"
                      disabled={busy}
                      onClick={() => onRemove(set)}
                    >
                      {t('spyware.indicators.remove')}
                      <span className="visually-hidden"> {set.name}</span>
                    </button>
                  ) : (
                    <span className="field-hint">{t('spyware.indicators.fromFolder')}</span>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Hunt({ hunt }: { hunt: RetroHunt }) {
  const { t, formatNumber, formatDateTime } = useI18n();
  return (
    <article className="card" aria-labelledby={`hunt-${hunt.id}`} data-testid="spyware-hunt">
      <div className="card-head">
        <h3 id={`hunt-${hunt.id}`}>{t('spyware.hunts.of', { name: hunt.setName })}</h3>
        <span className={`badge hunt-${hunt.status}`}>{t(`spyware.huntStatus.${hunt.status}`)}</span>
      </div>
      <p className="details">
        {t('spyware.hunts.started', { at: formatDateTime(hunt.startedAt) })}
        {hunt.finishedAt === null
          ? null
          : ` · ${t('spyware.hunts.finished', { at: formatDateTime(hunt.finishedAt) })}`}
      </p>
      {hunt.status === 'running' ? (
        <ProgressBar
          label={t('spyware.hunts.progress')}
          fraction={fractionDone(hunt.progress.done, hunt.progress.total)}
          detail={t('spyware.hunts.progressDetail', {
            done: formatNumber(hunt.progress.done),
            total: formatNumber(hunt.progress.total),
          })}
        />
      ) : null}
      {hunt.error === null ? null : <p className="message message-error">{hunt.error}</p>}
      {hunt.status === 'done' && hunt.dnsHits.length === 0 && hunt.scanHits.length === 0 ? (
        <p className="message message-success">{t('spyware.hunts.nothing')}</p>
      ) : null}
      {hunt.dnsHits.length === 0 ? null : (
        <div className="table-wrap">
          <table className="table">
            <caption className="table-caption">{t('spyware.hunts.dnsHits')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('spyware.hunts.client')}</th>
                <th scope="col">{t('spyware.hunts.domain')}</th>
                <th scope="col">{t('spyware.indicators.malware')}</th>
                <th scope="col">{t('spyware.hunts.seen')}</th>
                <th scope="col" className="cell-number">
                  {t('spyware.hunts.count')}
                </th>
              </tr>
            </thead>
            <tbody>
              {hunt.dnsHits.map((hit) => (
                <tr key={`${hit.client} ${hit.domain}`} className="row-infected">
                  <th scope="row">
                    <code>{hit.client}</code>
                  </th>
                  <td className="cell-break">
                    <code>{hit.domain}</code>
                    {hit.indicator === hit.domain ? null : (
                      <p className="details">{t('spyware.hunts.indicator', { indicator: hit.indicator })}</p>
                    )}
                  </td>
                  <td>
                    <MalwareList malware={hit.malware} />
                  </td>
                  <td>
                    {t('spyware.hunts.seenRange', {
                      first: formatDateTime(hit.firstSeen),
                      last: formatDateTime(hit.lastSeen),
                    })}
                  </td>
                  <td className="cell-number">{formatNumber(hit.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {hunt.scanHits.length === 0 ? null : (
        <div className="table-wrap">
          <table className="table">
            <caption className="table-caption">{t('spyware.hunts.scanHits')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('spyware.fleet.device')}</th>
                <th scope="col">{t('spyware.fleet.owner')}</th>
                <th scope="col">{t('spyware.indicators.malware')}</th>
                <th scope="col" className="cell-number">
                  {t('spyware.hunts.detections')}
                </th>
              </tr>
            </thead>
            <tbody>
              {hunt.scanHits.map((hit) => (
                <tr key={hit.scanId} className="row-infected">
                  <th scope="row">
                    <Link to={spywareDevicePath(hit.deviceId)}>{hit.device}</Link>
                  </th>
                  <td>{hit.owner}</td>
                  <td>
                    <MalwareList malware={hit.malware} />
                  </td>
                  <td className="cell-number">{formatNumber(hit.detections)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}

export function SpywareIndicatorsPage() {
  const { t } = useI18n();
  const loaded = useLoad(() => Promise.all([api.spyware.indicatorSets(), api.spyware.retroHunts()]), []);
  const [imported, setImported] = useState<IndicatorImport>();
  const [removing, setRemoving] = useState<IndicatorSet>();
  const [status, setStatus] = useState<string>();
  const acting = useAction();
  const [sets, hunts] = loaded.data ?? [];
  const { shipped, imported: added } = splitSets(sets ?? []);
  const running = (hunts ?? []).some((hunt) => hunt.status === 'running');
  const { reload } = loaded;

  // Running retro-hunts are followed until they end.
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(reload, HUNT_POLL_MS);
    return () => clearInterval(timer);
  }, [running, reload]);

  const remove = async (set: IndicatorSet) => {
    const result = await acting.run(() => api.spyware.deleteIndicatorSet(set.id));
    setRemoving(undefined);
    if (!result.ok) return;
    if (imported?.set.id === set.id) setImported(undefined);
    setStatus(t('spyware.indicators.removed', { name: set.name }));
    reload();
  };

  return (
    <SpywareFrame section="indicators">
      <ImportForm
        onImported={(result) => {
          setStatus(undefined);
          acting.clearError();
          setImported(result);
          reload();
        }}
      />
      {imported ? <Imported result={imported} /> : null}

      <section className="card" aria-labelledby="spyware-sets">
        <h2 id="spyware-sets">{t('spyware.indicators.sets')}</h2>
        <StatusMessage tone="success" message={status} />
        <ErrorMessage error={acting.error ?? loaded.error} />
        {sets === undefined ? (
          <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
        ) : (
          <>
            {added.length === 0 ? (
              <p className="empty">{t('spyware.indicators.noneImported')}</p>
            ) : (
              <SetsTable
                sets={added}
                caption={t('spyware.indicators.importedSets')}
                testId="spyware-imported-sets"
                busy={acting.busy}
                onRemove={(set) => {
                  setStatus(undefined);
                  acting.clearError();
                  setRemoving(set);
                }}
              />
            )}
            <SetsTable
              sets={shipped}
              caption={t('spyware.indicators.shippedSets')}
              testId="spyware-shipped-sets"
              busy={acting.busy}
            />
          </>
        )}
      </section>

      <section aria-labelledby="spyware-hunts">
        <h2 id="spyware-hunts">{t('spyware.hunts.title')}</h2>
        <p className="muted">{t('spyware.hunts.intro')}</p>
        {hunts === undefined ? null : hunts.length === 0 ? (
          <p className="empty">{t('spyware.hunts.empty')}</p>
        ) : (
          huntsNewestFirst(hunts).map((hunt) => <Hunt key={hunt.id} hunt={hunt} />)
        )}
      </section>

      {removing ? (
        <ConfirmDialog
          title={t('spyware.indicators.removeTitle', { name: removing.name })}
          confirmLabel={t('spyware.indicators.removeConfirm')}
          danger
          busy={acting.busy}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(undefined)}
        >
          <p>{t('spyware.indicators.removeText')}</p>
        </ConfirmDialog>
      ) : null}
    </SpywareFrame>
  );
}
