/** The server watch's enumerated values as text and colour (never colour alone). */
import type { WatchBlockView, WatchStatusView } from '@rempart/core';
import { useI18n } from '../../i18n';
import { severityOfLevel } from '../../serverwatch/timeline';
import { SeverityBadge } from '../badges';

/** A rule's Sigma level, in the colours of the alert stream's severities. */
export function LevelBadge({ level }: { level: string | null }) {
  return <SeverityBadge severity={severityOfLevel(level)} />;
}

/** Whether a block was only recorded (dry-run), applied, or failed. */
export function BlockModeBadge({ mode }: { mode: WatchBlockView['mode'] }) {
  const { t } = useI18n();
  return (
    <span className={`badge watch-mode watch-mode-${mode}`} data-testid="watch-block-mode">
      {t(`watch.blockMode.${mode}`)}
    </span>
  );
}

/** How the watch answers a hit: `dry-run` is said loudly, since nothing is blocked then. */
export function ResponseModeBadge({ mode }: { mode: WatchStatusView['responses']['block'] }) {
  const { t } = useI18n();
  return (
    <span className={`badge watch-response watch-response-${mode}`} data-testid="watch-response-mode">
      {t(`watch.response.${mode}`)}
    </span>
  );
}
