import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { spywarePath, spywareSections, type SpywareSection } from '../../spyware/sections';
import { SectionFrame } from '../section-frame';
import './spyware.css';

/**
 * A page of the spyware check for administrators: the check's name above the page's, the links
 * to the other sections, and the section itself. A device's page names no section.
 */
export function SpywareFrame({
  section,
  title,
  lead,
  children,
}: {
  section: SpywareSection | undefined;
  title?: string;
  lead?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const name = title ?? (section === undefined ? t('spyware.title') : t(`spyware.section.${section}`));
  return (
    <SectionFrame
      context={t('spyware.title')}
      name={name}
      pageTitle={t('spyware.pageTitle', { section: name })}
      lead={lead ?? (section === undefined ? undefined : t(`spyware.lead.${section}`))}
      navLabel={t('spyware.sections')}
      links={spywareSections.map((other) => ({
        to: spywarePath(other),
        label: t(`spyware.section.${other}`),
        current: other === section,
      }))}
    >
      {children}
    </SectionFrame>
  );
}
