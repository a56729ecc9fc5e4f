/** Enumerated values shown as text and, where it helps, colour (never colour alone). */
import type { Agent, AgentStatus, AuditEntry, Classification, Severity } from '@rempart/core';
import { useI18n } from '../i18n';

export function SeverityBadge({ severity }: { severity: Severity }) {
  const { t } = useI18n();
  return <span className={`badge severity-${severity}`}>{t(`severity.${severity}`)}</span>;
}

export function StatusBadge({ status }: { status: AgentStatus }) {
  const { t } = useI18n();
  return <span className={`badge status-${status}`}>{t(`status.${status}`)}</span>;
}

export function OutcomeBadge({ outcome }: { outcome: AuditEntry['outcome'] }) {
  const { t } = useI18n();
  return <span className={`badge outcome-${outcome}`}>{t(`outcome.${outcome}`)}</span>;
}

export function ClearanceBadge({ clearance }: { clearance: Agent['clearance'] }) {
  const { t } = useI18n();
  return <span className={`badge clearance-${clearance}`}>{t(`clearance.${clearance}`)}</span>;
}

/** A meeting's classification: the same levels and colours as a clearance, named as a classification. */
export function ClassificationBadge({ classification }: { classification: Classification }) {
  const { t } = useI18n();
  return (
    <span className={`badge clearance-${classification}`}>
      <span className="visually-hidden">{t('meetings.classification')}: </span>
      {t(`clearance.${classification}`)}
    </span>
  );
}
