import type { EnrolmentLink } from '@rempart/core';
import type { Ref } from 'react';
import { useI18n } from '../i18n';
import { CopyLink } from './copy-link';

/** A freshly issued enrolment link, to be handed to the agent through a trusted channel. */
export function EnrolmentLinkPanel({
  link,
  summary,
  headingRef,
}: {
  link: EnrolmentLink;
  summary: string;
  headingRef?: Ref<HTMLHeadingElement>;
}) {
  const { t, formatDateTime } = useI18n();

  return (
    <section className="card card-important" aria-labelledby="enrolment-link-heading">
      <h2 id="enrolment-link-heading" ref={headingRef} tabIndex={-1}>
        {t('agents.linkHeading', { name: link.agent.displayName })}
      </h2>
      <p>
        {summary} {t('agents.linkIntro', { date: formatDateTime(link.expiresAt) })}
      </p>
      <CopyLink url={link.enrolmentUrl} testId="enrolment-url" />
    </section>
  );
}
