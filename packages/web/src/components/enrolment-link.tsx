import type { EnrolmentLink } from '@rempart/core';
import { useRef, useState, type Ref } from 'react';
import { useI18n } from '../i18n';
import { StatusMessage } from './messages';

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
  const urlRef = useRef<HTMLElement>(null);
  const [copyState, setCopyState] = useState<'copied' | 'failed' | undefined>();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link.enrolmentUrl);
      setCopyState('copied');
    } catch {
      // The clipboard needs a secure context and permission; selecting lets the user copy by hand.
      const element = urlRef.current;
      if (element) window.getSelection()?.selectAllChildren(element);
      setCopyState('failed');
    }
  };

  return (
    <section className="card card-important" aria-labelledby="enrolment-link-heading">
      <h2 id="enrolment-link-heading" ref={headingRef} tabIndex={-1}>
        {t('agents.linkHeading', { name: link.agent.displayName })}
      </h2>
      <p>
        {summary} {t('agents.linkIntro', { date: formatDateTime(link.expiresAt) })}
      </p>
      <div className="link-box">
        <code ref={urlRef} data-testid="enrolment-url">
          {link.enrolmentUrl}
        </code>
        <button type="button" className="button" onClick={() => void copy()}>
          {t('agents.copy')}
        </button>
      </div>
      <StatusMessage
        tone={copyState === 'copied' ? 'success' : 'info'}
        message={
          copyState === undefined
            ? undefined
            : t(copyState === 'copied' ? 'agents.copied' : 'agents.copyFailed')
        }
      />
    </section>
  );
}
