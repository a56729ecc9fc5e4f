import type { DnsVerdict } from '@rempart/core';
import { useI18n } from '../../i18n';
import type { BlockSource } from '../../netguard/stats';
import { explainVerdict, groupReason, type GroupReason, type MatchRow } from '../../netguard/verdict';

/** A category by its name in the reader's language; a stored list by the name it was given. */
export function BlockSourceName({ source }: { source: BlockSource }) {
  const { t } = useI18n();
  return source.kind === 'category' ? (
    <span className="source-category">
      {t('netguard.source.category', { name: t(`netguard.category.${source.id}`) })}
    </span>
  ) : (
    <span className="source-list">{t('netguard.source.list', { name: source.name })}</span>
  );
}

function Reason({ reason }: { reason: GroupReason }) {
  const { t } = useI18n();
  switch (reason.kind) {
    case 'range':
      return <>{t('netguard.test.whyRange')}</>;
    case 'device':
      return <>{t('netguard.test.whyDevice', { device: reason.device })}</>;
    case 'fallback':
      return <>{t('netguard.test.whyFallback')}</>;
    case 'other':
      return <>{reason.text}</>;
  }
}

function ActionBadge({ action }: { action: 'block' | 'allow' }) {
  const { t } = useI18n();
  return <span className={`badge rule-${action}`}>{t(`netguard.rule.${action}`)}</span>;
}

function RuleRow({ row }: { row: MatchRow }) {
  const { t, formatNumber } = useI18n();
  const { match } = row;
  return (
    <tr className={row.deciding ? 'row-current' : undefined}>
      <td>
        <ActionBadge action={match.action} />
        {row.deciding ? <span className="badge badge-current">{t('netguard.test.deciding')}</span> : null}
      </td>
      <td>
        <BlockSourceName source={row.source} />
      </td>
      <td className="cell-number">{match.line === 0 ? t('common.none') : formatNumber(match.line)}</td>
      <td className="cell-break">
        <code>{match.rule}</code>
      </td>
      <td>{match.malware ?? t('common.none')}</td>
    </tr>
  );
}

/**
 * The verdict on one name for one client: blocked or allowed and how it is answered, the group
 * the client is in and why, the rule that decided and every rule that matched. The outcome's
 * live region stays in the page before any verdict, so each one is announced when it arrives.
 */
export function VerdictView({ verdict }: { verdict: DnsVerdict | undefined }) {
  return (
    <div className="netguard-verdict" data-testid="netguard-verdict">
      <div role="status" aria-live="polite" aria-atomic="true">
        {verdict ? <Outcome verdict={verdict} /> : null}
      </div>
      {verdict ? <Explanation verdict={verdict} /> : null}
    </div>
  );
}

function Outcome({ verdict }: { verdict: DnsVerdict }) {
  const { t, formatNumber } = useI18n();
  const explained = explainVerdict(verdict);
  const blocked = explained.outcome === 'blocked';
  const advice =
    explained.outcome === 'blocked'
      ? t(`netguard.test.answer.${verdict.blockMode}`)
      : explained.outcome === 'allowed-by-rule'
        ? explained.overruled > 0
          ? t('netguard.test.allowedOverruled', { count: formatNumber(explained.overruled) })
          : t('netguard.test.allowedByRule')
        : t('netguard.test.allowedNoRule');
  return (
    <div className={blocked ? 'verdict verdict-leak' : 'verdict verdict-clear'}>
      <p className="verdict-title">
        {t(blocked ? 'netguard.test.blocked' : 'netguard.test.allowed', {
          domain: verdict.domain,
          client: verdict.client,
        })}
      </p>
      <p>{advice}</p>
    </div>
  );
}

function Explanation({ verdict }: { verdict: DnsVerdict }) {
  const { t, formatNumber } = useI18n();
  const { deciding, rows } = explainVerdict(verdict);
  return (
    <section className="card" aria-labelledby="netguard-verdict-why">
      <h2 id="netguard-verdict-why">{t('netguard.test.result')}</h2>
      <dl className="facts">
        <dt>{t('netguard.test.group')}</dt>
        <dd>
          {verdict.group.name} <code className="muted">{verdict.group.id}</code>
        </dd>
        <dt>{t('netguard.test.why')}</dt>
        <dd>
          <Reason reason={groupReason(verdict.group.why)} />
        </dd>
        <dt>{t('netguard.test.decidedBy')}</dt>
        <dd data-testid="netguard-deciding">
          {deciding ? (
            <>
              <code>{deciding.match.rule}</code> — <BlockSourceName source={deciding.source} />
              {deciding.match.line > 0
                ? `, ${t('netguard.test.line', { line: formatNumber(deciding.match.line) })}`
                : null}
              {deciding.match.malware === undefined
                ? null
                : ` (${t('netguard.test.malware', { name: deciding.match.malware })})`}
            </>
          ) : (
            t('netguard.test.noRule')
          )}
        </dd>
      </dl>
      <h3>{t('netguard.test.matches', { count: formatNumber(rows.length) })}</h3>
      {rows.length === 0 ? (
        <p className="muted">{t('netguard.test.noMatches')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="netguard-matches">
            <caption className="visually-hidden">
              {t('netguard.test.matchesCaption', { domain: verdict.domain })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('netguard.test.action')}</th>
                <th scope="col">{t('netguard.test.source')}</th>
                <th scope="col" className="cell-number">
                  {t('netguard.test.lineHeader')}
                </th>
                <th scope="col">{t('netguard.test.rule')}</th>
                <th scope="col">{t('netguard.test.malwareHeader')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <RuleRow
                  key={`${row.match.list} ${row.match.line} ${row.match.action} ${row.match.rule}`}
                  row={row}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
