/**
 * A retro-hunt: Sigma rules pasted here (or, with the box left empty, the rules the watch runs
 * now) run over the events stored in a window. The result says what was scanned and found, and
 * links to the hunt's hits; a rule that does not load is shown with the server's words, which
 * name its file and line.
 */
import type { WatchHuntResult } from '@rempart/core';
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { TextAreaField } from '../components/netguard/fields';
import { inputRefusal } from '../components/serverwatch/refusal';
import { RuleTable } from '../components/serverwatch/rule-table';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { WindowField } from '../components/serverwatch/window-field';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { durationParts, lineRange, ruleErrorLine } from '../serverwatch/format';
import { hitsHref, huntRequest } from '../serverwatch/query';
import { DEFAULT_WATCH_WINDOW, type WatchWindow } from '../serverwatch/timeline';

const RULES_ID = 'watch-hunt-rules';

function HuntResult({ result }: { result: WatchHuntResult }) {
  const { t, formatNumber, formatDateTime } = useI18n();
  const duration = durationParts(result.ms);
  return (
    <section className="card" aria-labelledby="watch-hunt-result" data-testid="watch-hunt-result">
      <h2 id="watch-hunt-result">{t('watch.hunt.result')}</h2>
      <dl className="stat-tiles">
        <div className="stat-tile">
          <dt>{t('watch.hunt.events')}</dt>
          <dd>
            <span className="stat-value">{formatNumber(result.events)}</span>
          </dd>
        </div>
        <div className={result.hits > 0 ? 'stat-tile stat-blocked' : 'stat-tile'}>
          <dt>{t('watch.hunt.hits')}</dt>
          <dd>
            <span className="stat-value">{formatNumber(result.hits)}</span>
          </dd>
        </div>
        <div className="stat-tile">
          <dt>{t('watch.hunt.rules')}</dt>
          <dd>
            <span className="stat-value">
              {formatNumber(result.rules.detection + result.rules.correlation)}
            </span>
            <span className="stat-note">
              {t('watch.status.rulesNote', {
                detection: formatNumber(result.rules.detection),
                correlation: formatNumber(result.rules.correlation),
              })}
            </span>
          </dd>
        </div>
        <div className="stat-tile">
          <dt>{t('watch.hunt.took')}</dt>
          <dd>
            <span className="stat-value">
              {t(duration.unit === 'ms' ? 'watch.hunt.ms' : 'watch.hunt.seconds', {
                value: formatNumber(duration.value),
              })}
            </span>
          </dd>
        </div>
      </dl>
      <p className="muted">
        {t('watch.hunt.period', {
          from: result.from === null ? t('watch.hunt.beginning') : formatDateTime(result.from),
          to: result.to === null ? t('watch.hunt.now') : formatDateTime(result.to),
        })}
      </p>
      {result.hits > 0 ? (
        <p>
          <Link to={hitsHref({ hunt: result.id })} className="button">
            {t('watch.hunt.seeHits', { count: formatNumber(result.hits) })}
          </Link>
        </p>
      ) : null}
      <RuleTable
        rules={result.byRule}
        testId="watch-hunt-rules"
        hrefOf={(rule) => hitsHref({ hunt: result.id, ruleId: rule.ruleId })}
      />
    </section>
  );
}

export function WatchHuntPage() {
  const { t } = useI18n();
  const [rules, setRules] = useState('');
  const [hours, setHours] = useState<WatchWindow>(DEFAULT_WATCH_WINDOW);
  const [result, setResult] = useState<WatchHuntResult>();
  const action = useAction();
  const refusal = inputRefusal(action.error);

  // A refused rule: the caret goes to the line the server names, so the fix starts there.
  useEffect(() => {
    const box = document.getElementById(RULES_ID);
    if (refusal === undefined || !(box instanceof HTMLTextAreaElement)) return;
    box.focus();
    const line = ruleErrorLine(refusal);
    const range = line === undefined ? undefined : lineRange(box.value, line);
    if (range !== undefined) box.setSelectionRange(range.start, range.end);
  }, [refusal]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setResult(undefined);
    const outcome = await action.run(() => api.watch.hunt(huntRequest(rules, hours, Date.now())));
    if (outcome.ok) setResult(outcome.value);
  };

  return (
    <WatchFrame section="hunt">
      <form className="card" onSubmit={(event) => void submit(event)} noValidate aria-busy={action.busy}>
        <TextAreaField
          id={RULES_ID}
          label={t('watch.hunt.rulesField')}
          hint={t('watch.hunt.rulesHint')}
          problem={refusal}
          className="field-lines watch-hunt-yaml"
          rows={14}
          value={rules}
          onChange={(event) => setRules(event.target.value)}
        />
        <WindowField name="watch-hunt-window" value={hours} disabled={action.busy} onChange={setHours} />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={action.busy}>
            {action.busy ? t('watch.hunt.running') : t('watch.hunt.run')}
          </button>
        </div>
      </form>
      <div role="alert" aria-atomic="true" className="visually-hidden">
        {refusal === undefined ? undefined : t('watch.hunt.refused')}
      </div>
      {refusal === undefined ? <ErrorMessage error={action.error} /> : null}
      <StatusMessage
        tone="success"
        message={
          result === undefined
            ? undefined
            : t('watch.hunt.done', { hits: result.hits, events: result.events })
        }
      />
      {result === undefined ? null : <HuntResult result={result} />}
    </WatchFrame>
  );
}
