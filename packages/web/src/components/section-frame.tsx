import type { ReactNode } from 'react';
import { Link } from '../router';
import { Page } from './page';

/** A link of a capability's sub-navigation. */
export interface SectionLink {
  to: string;
  label: string;
  current: boolean;
}

/**
 * A page of a capability with sections (the network guard, the spyware check): the capability's
 * name above the page's, the links to its sections, and the page itself.
 */
export function SectionFrame({
  context,
  name,
  pageTitle,
  lead,
  navLabel,
  links,
  children,
}: {
  /** The capability's name, shown above the page's. */
  context: string;
  name: string;
  pageTitle: string;
  lead: ReactNode;
  navLabel: string;
  links: readonly SectionLink[];
  children: ReactNode;
}) {
  return (
    <Page
      title={pageTitle}
      heading={
        <>
          <span className="heading-context">
            {context}
            <span className="visually-hidden">: </span>
          </span>
          {name}
        </>
      }
      lead={lead}
      wide
    >
      <nav className="subnav" aria-label={navLabel}>
        <ul>
          {links.map((link) => (
            <li key={link.to}>
              <Link to={link.to} aria-current={link.current ? 'page' : undefined}>
                {link.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </Page>
  );
}
