import type { Agent } from '@rempart/core';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { ClearanceBadge } from './badges';

/** An agent's verified identity as a definition list; `children` adds rows after clearance. */
export function AgentFacts({ agent, children }: { agent: Agent; children?: ReactNode }) {
  const { t } = useI18n();
  return (
    <dl className="facts">
      <dt>{t('home.name')}</dt>
      <dd>{agent.displayName}</dd>
      <dt>{t('home.email')}</dt>
      <dd>{agent.email}</dd>
      <dt>{t('home.unit')}</dt>
      <dd>{agent.unit === '' ? t('common.none') : agent.unit}</dd>
      <dt>{t('home.role')}</dt>
      <dd>{t(`role.${agent.role}`)}</dd>
      <dt>{t('home.clearance')}</dt>
      <dd>
        <ClearanceBadge clearance={agent.clearance} />
      </dd>
      {children}
    </dl>
  );
}
