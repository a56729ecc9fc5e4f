/**
 * The addresses the watch's responses blocked, or in dry-run would have: the command run (or
 * recorded) for each, and a way to lift a block after a confirmation.
 */
import type { WatchBlockView } from '@rempart/core';
import { useState } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { BlockTable } from '../components/serverwatch/block-table';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';

export function WatchBlocksPage() {
  const { t } = useI18n();
  const blocks = useLoad(() => api.watch.blocks(), []);
  const [asking, setAsking] = useState<WatchBlockView>();
  const [announcement, setAnnouncement] = useState<string>();
  const action = useAction();
  const { setData } = blocks;

  const unblock = async (block: WatchBlockView) => {
    const result = await action.run(() => api.watch.unblock(block.address));
    setAsking(undefined);
    if (!result.ok) return;
    setData((previous) =>
      previous ? { blocks: previous.blocks.filter((b) => b.address !== block.address) } : previous,
    );
    setAnnouncement(t('watch.blocks.unblocked', { address: block.address }));
  };

  return (
    <WatchFrame section="blocks">
      <div className="toolbar">
        <button type="button" className="button" disabled={blocks.loading} onClick={blocks.reload}>
          {t('watch.blocks.refresh')}
        </button>
      </div>
      <StatusMessage tone="success" message={announcement} />
      <ErrorMessage error={action.error ?? blocks.error} />
      {blocks.data ? (
        <BlockTable blocks={blocks.data.blocks} busy={action.busy} onUnblock={setAsking} />
      ) : (
        <StatusMessage message={blocks.loading ? t('app.loading') : undefined} />
      )}
      {asking === undefined ? null : (
        <ConfirmDialog
          title={t('watch.blocks.confirmTitle', { address: asking.address })}
          confirmLabel={t('watch.blocks.unblock')}
          danger
          busy={action.busy}
          onConfirm={() => void unblock(asking)}
          onCancel={() => setAsking(undefined)}
        >
          <p>
            {asking.mode === 'dry-run'
              ? t('watch.blocks.confirmDryRun', { address: asking.address })
              : t('watch.blocks.confirmText', { address: asking.address, rule: asking.ruleTitle })}
          </p>
        </ConfirmDialog>
      )}
    </WatchFrame>
  );
}
