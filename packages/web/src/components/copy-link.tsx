import { useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { StatusMessage } from './messages';

/** An address to hand on, with a copy button; selecting it by hand works when the clipboard does not. */
export function CopyLink({ url, testId }: { url: string; testId?: string }) {
  const { t } = useI18n();
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
    </>
  );
}
