import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { spywarePath, spywareSections, type SpywareSection } from '../../spyware/sections';
import { Page } from '../page';
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
    <Page
      title={t('spyware.pageTitle', { section: name })}
      heading={
        <>
          <span className="heading-context">
            {t('spyware.title')}
            <span className="visually-hidden">: </span>
          </span>
          {name}
        </>
      }
      lead={lead ?? (section === undefined ? undefined : t(`spyware.lead.${section}`))}
      wide
    >
      <nav className="subnav" aria-label={t('spyware.sections')}>
        <ul>
          {spywareSections.map((other) => (
            <li key={other}>
              <Link to={spywarePath(other)} aria-current={other === section ? 'page' : undefined}>
                {t(`spyware.section.${other}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </Page>
  );
}
