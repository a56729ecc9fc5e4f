import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { netguardPath, netguardSections, type NetguardSection } from '../../netguard/sections';
import { Page } from '../page';

/**
 * A section of the network guard: one page with the guard's name above the section's, the
 * links to the other sections, and the section itself.
 */
export function NetguardFrame({ section, children }: { section: NetguardSection; children: ReactNode }) {
  const { t } = useI18n();
  const name = t(`netguard.section.${section}`);
  return (
    <Page
      title={t('netguard.pageTitle', { section: name })}
      heading={
        <>
          <span className="heading-context">
            {t('netguard.title')}
            <span className="visually-hidden">: </span>
          </span>
          {name}
        </>
      }
      lead={t(`netguard.lead.${section}`)}
      wide
    >
      <nav className="subnav" aria-label={t('netguard.sections')}>
        <ul>
          {netguardSections.map((other) => (
            <li key={other}>
              <Link to={netguardPath(other)} aria-current={other === section ? 'page' : undefined}>
                {t(`netguard.section.${other}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </Page>
  );
}
