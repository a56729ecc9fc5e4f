import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { watchPath, watchSections, type WatchSection } from '../../serverwatch/sections';
import { SectionFrame } from '../section-frame';

/**
 * A section of the server watch: one page with the watch's name above the section's, the links
 * to the other sections, and the section itself.
 */
export function WatchFrame({ section, children }: { section: WatchSection; children: ReactNode }) {
  const { t } = useI18n();
  const name = t(`watch.section.${section}`);
  return (
    <SectionFrame
      context={t('watch.title')}
      name={name}
      pageTitle={t('watch.pageTitle', { section: name })}
      lead={t(`watch.lead.${section}`)}
      navLabel={t('watch.sections')}
      links={watchSections.map((other) => ({
        to: watchPath(other),
        label: t(`watch.section.${other}`),
        current: other === section,
      }))}
    >
      {children}
    </SectionFrame>
  );
}
