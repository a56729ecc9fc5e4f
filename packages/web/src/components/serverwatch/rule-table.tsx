import type { RuleCount } from '@rempart/core';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { rulesByHits } from '../../serverwatch/format';
import { LevelBadge } from './badges';

/** Each rule that fired over the window, with its hits, linking to them. */
export function RuleTable({
  rules,
  hrefOf,
  testId = 'watch-rules',
}: {
  rules: readonly RuleCount[];
  /** Where a rule's hits are listed. */
  hrefOf: (rule: RuleCount) => string;
  testId?: string;
}) {
  const { t, formatNumber, formatDateTime } = useI18n();
  if (rules.length === 0) return <p className="empty">{t('watch.rules.none')}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t('watch.rule')}</th>
            <th scope="col">{t('watch.level')}</th>
            <th scope="col">{t('watch.kind')}</th>
            <th scope="col" className="cell-number">
              {t('watch.rules.hits')}
            </th>
            <th scope="col">{t('watch.rules.lastHit')}</th>
          </tr>
        </thead>
        <tbody>
          {rulesByHits(rules).map((rule) => (
            <tr key={rule.ruleId}>
              <th scope="row">
                <Link to={hrefOf(rule)}>{rule.title}</Link>
              </th>
              <td>
                <LevelBadge level={rule.level} />
              </td>
              <td>{t(`watch.kind.${rule.kind}`)}</td>
              <td className="cell-number">{formatNumber(rule.hits)}</td>
              <td>
                <time dateTime={rule.lastHitAt}>{formatDateTime(rule.lastHitAt)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
