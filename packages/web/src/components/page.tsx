import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { navigationCount } from '../router';

/**
 * One page: its title in the tab and a single h1. After a client-side navigation the h1 takes
 * the focus, so screen reader and keyboard users start on the new page, as after a full load.
 */
export function Page({
  title,
  heading,
  lead,
  children,
  wide = false,
}: {
  title: string;
  heading?: ReactNode;
  lead?: ReactNode;
  children?: ReactNode;
  wide?: boolean;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = `${title} — ${t('app.name')}`;
  }, [title, t]);

  useEffect(() => {
    if (navigationCount() > 0) ref.current?.focus();
  }, []);

  return (
    <div className={wide ? 'page page-wide' : 'page'}>
      <h1 ref={ref} tabIndex={-1}>
        {heading ?? title}
      </h1>
      {lead === undefined ? null : <p className="lead">{lead}</p>}
      {children}
    </div>
  );
}
