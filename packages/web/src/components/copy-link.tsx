import { useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { StatusMessage } from './messages';

/** What the button and its outcome say; by default, that a link is copied. */
export interface CopyLabels {
  copy: string;
  copied: string;
  failed: string;
}

/**
 * An address (or another secret to hand on, such as a device token) with a copy button;
 * selecting it by hand works when the clipboard does not.
 */
export function CopyLink({ url, testId, labels }: { url: string; testId?: string; labels?: CopyLabels }) {
  const { t } = useI18n();
  const words = labels ?? {
    copy: t('agents.copy'),
    copied: t('agents.copied'),
    failed: t('agents.copyFailed'),
  };
  const urlRef = useRef<HTMLElement>(null);
  const [copyState, setCopyState] = useState<'copied' | 'failed' | undefined>();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopyState('copied');
    } catch {
      // The clipboard needs a secure context and permission; selecting lets the user copy by hand.
      const element = urlRef.current;
      if (element) window.getSelection()?.selectAllChildren(element);
      setCopyState('failed');
    }
  };

  return (
    <>
      <div className="link-box">
        <code ref={urlRef} data-testid={testId}>
          {url}
        </code>
        <button type="button" className="button" onClick={() => void copy()}>
          {words.copy}
        </button>
      </div>
      <StatusMessage
        tone={copyState === 'copied' ? 'success' : 'info'}
        message={copyState === undefined ? undefined : copyState === 'copied' ? words.copied : words.failed}
      />
    </>
  );
}
