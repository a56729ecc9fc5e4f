import type { AgentRef, Meeting } from '@rempart/core';
import { useI18n } from '../../i18n';
import type { MeetingTiming } from '../../meeting/schedule';

/** "12 Mar 2026, 09:00 – 10:00", or both dates when the meeting runs past midnight. */
export function useFormatWindow(): (startsAt: string, endsAt: string) => string {
  const { formatDateTime, formatTime } = useI18n();
  return (startsAt, endsAt) => {
    const sameDay = new Date(startsAt).toDateString() === new Date(endsAt).toDateString();
    return `${formatDateTime(startsAt)} – ${sameDay ? formatTime(endsAt) : formatDateTime(endsAt)}`;
  };
}

export function TimingBadge({ timing }: { timing: MeetingTiming }) {
  const { t } = useI18n();
  return <span className={`badge timing-${timing}`}>{t(`meetings.timing.${timing}`)}</span>;
}

export function AgentNames({ agents }: { agents: readonly AgentRef[] }) {
  const { t } = useI18n();
  if (agents.length === 0) return <>{t('common.none')}</>;
  return (
    <ul className="names">
      {agents.map((agent) => (
        <li key={agent.id}>
          {agent.displayName}
          {agent.unit === '' ? null : <span className="muted"> · {agent.unit}</span>}
        </li>
      ))}
    </ul>
  );
}

export function isHostOf(meeting: Pick<Meeting, 'hosts'>, agentId: string): boolean {
  return meeting.hosts.some((host) => host.id === agentId);
}
