import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { netguardPath, netguardSections, type NetguardSection } from '../../netguard/sections';
import { SectionFrame } from '../section-frame';

/**
 * A section of the network guard: one page with the guard's name above the section's, the
 * links to the other sections, and the section itself.
 */
export function NetguardFrame({ section, children }: { section: NetguardSection; children: ReactNode }) {
  const { t } = useI18n();
  const name = t(`netguard.section.${section}`);
  return (
    <SectionFrame
      context={t('netguard.title')}
      name={name}
      pageTitle={t('netguard.pageTitle', { section: name })}
      lead={t(`netguard.lead.${section}`)}
      navLabel={t('netguard.sections')}
      links={netguardSections.map((other) => ({
        to: netguardPath(other),
        label: t(`netguard.section.${other}`),
        current: other === section,
      }))}
    >
      {children}
    </SectionFrame>
  );
}
