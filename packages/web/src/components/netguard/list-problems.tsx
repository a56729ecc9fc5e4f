import type { ListProblem } from '@rempart/core';
import type { z } from 'zod';
import { useI18n } from '../../i18n';

type Problem = z.infer<typeof ListProblem>;

/**
 * The lines of a list the server could not read, each with its number and the reason; `total`
 * says how many there were when only the first ones were kept.
 */
export function ListProblems({
  problems,
  total = problems.length,
  caption,
}: {
  problems: readonly Problem[];
  total?: number;
  caption: string;
}) {
  const { t, formatNumber } = useI18n();
  if (problems.length === 0) return null;
  return (
    <>
      <div className="table-wrap list-problems">
        <table className="table">
          <caption className="table-caption">{caption}</caption>
          <thead>
            <tr>
              <th scope="col" className="cell-number">
                {t('netguard.lists.problemLine')}
              </th>
              <th scope="col">{t('netguard.lists.problemReason')}</th>
            </tr>
          </thead>
          <tbody>
            {problems.map((problem, index) => (
              <tr key={`${problem.line} ${index}`}>
                <th scope="row" className="cell-number">
                  {formatNumber(problem.line)}
                </th>
                <td>{problem.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {total > problems.length ? (
        <p className="field-hint">
          {t('netguard.lists.problemsMore', { count: formatNumber(total - problems.length) })}
        </p>
      ) : null}
    </>
  );
}
