import type { WatchBlockView } from '@rempart/core';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { commandLine } from '../../serverwatch/format';
import { hitsHref } from '../../serverwatch/query';
import { BlockModeBadge } from './badges';

/** The addresses the watch's responses blocked (or, in dry-run, would have), each to unblock. */
export function BlockTable({
  blocks,
  busy,
  onUnblock,
}: {
  blocks: readonly WatchBlockView[];
  busy: boolean;
  onUnblock: (block: WatchBlockView) => void;
}) {
  const { t, formatDateTime } = useI18n();
  if (blocks.length === 0) return <p className="empty">{t('watch.blocks.none')}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="watch-blocks">
        <thead>
          <tr>
            <th scope="col">{t('watch.blocks.address')}</th>
            <th scope="col">{t('watch.rule')}</th>
            <th scope="col">{t('watch.blocks.since')}</th>
            <th scope="col">{t('watch.blocks.expires')}</th>
            <th scope="col">{t('watch.blocks.mode')}</th>
            <th scope="col">{t('watch.blocks.command')}</th>
            <th scope="col">
              <span className="visually-hidden">{t('watch.blocks.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {blocks.map((block) => (
            <tr key={block.address}>
              <th scope="row">
                <code>{block.address}</code>
              </th>
              <td>
                <Link to={hitsHref({ ruleId: block.ruleId })}>{block.ruleTitle}</Link>
              </td>
              <td>
                <time dateTime={block.at}>{formatDateTime(block.at)}</time>
              </td>
              <td>
                <time dateTime={block.expiresAt}>{formatDateTime(block.expiresAt)}</time>
              </td>
              <td>
                <BlockModeBadge mode={block.mode} />
                {block.error === null ? null : <p className="field-problem">{block.error}</p>}
              </td>
              <td className="cell-break">
                <code className="watch-command">{commandLine(block.command)}</code>
              </td>
              <td>
                <button
                  type="button"
                  className="button button-small button-danger"
                  disabled={busy}
                  onClick={() => onUnblock(block)}
                >
                  {t('watch.blocks.unblock')}
                  <span className="visually-hidden"> {block.address}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
