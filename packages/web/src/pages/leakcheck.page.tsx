/**
 * Leak check: before posting a photo or a screenshot, an agent hands it to the server, which
 * reads its text, QR codes and metadata, says what the image gives away and sends back a copy
 * with all of it masked. A Rempart meeting link found in it is replaced at once by the server.
 */
import type { LeakCheckResult } from '@rempart/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { LeakCheckView } from '../components/leakcheck/leak-check-view';
import type { RedactedDownload } from '../components/leakcheck/leak-report';
import { Page } from '../components/page';
import { useI18n } from '../i18n';
import { runLeakCheck, type LeakCheckState } from '../leakcheck/check';
import { redactedFile } from '../leakcheck/image';

/** The file as a `data:` URL: the console's CSP lets images load from `data:`, not from `blob:`. */
function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      typeof reader.result === 'string' ? resolve(reader.result) : reject(new Error('unread'));
    reader.onerror = () => reject(reader.error ?? new Error('unread'));
    reader.readAsDataURL(file);
  });
}

/** The redacted copy of `result` behind an object URL, revoked when the result is replaced or the page left. */
function useRedactedDownload(
  result: LeakCheckResult | undefined,
  name: string,
): RedactedDownload | undefined {
  const [download, setDownload] = useState<RedactedDownload & { of: LeakCheckResult }>();
  useEffect(() => {
    const file = result && redactedFile(result, name);
    if (!result || !file) {
      setDownload(undefined);
      return;
    }
    const url = URL.createObjectURL(file.blob);
    setDownload({ of: result, url, fileName: file.fileName });
    return () => URL.revokeObjectURL(url);
  }, [result, name]);
  // Until the effect has run for a new result, the previous URL (already revoked) is not offered.
  return download?.of === result ? download : undefined;
}

export function LeakCheckPage() {
  const { t } = useI18n();
  const [state, setState] = useState<LeakCheckState>({ phase: 'idle' });
  const [originalSrc, setOriginalSrc] = useState<string>();
  // Each chosen image bumps the generation; an answer for an older one (or after the page is left) is dropped.
  const generation = useRef(0);
  const busy = state.phase === 'checking';
  const checked = state.phase === 'checked' ? state : undefined;
  const download = useRedactedDownload(checked?.result, checked?.image.name ?? '');

  const onImage = useCallback((file: File) => {
    generation.current += 1;
    const run = generation.current;
    const current = () => generation.current === run;
    setOriginalSrc(undefined);
    void runLeakCheck(file, (next) => {
      if (!current()) return;
      setState(next);
      if (next.phase !== 'checking') return;
      readAsDataUrl(file).then(
        (src) => {
          if (current()) setOriginalSrc(src);
        },
        () => {
          // Unreadable here: the report then shows the redacted copy alone.
        },
      );
    });
  }, []);

  useEffect(
    () => () => {
      generation.current += 1;
    },
    [],
  );

  useEffect(() => {
    // A screenshot pasted anywhere on the page is checked, unless one is being read already.
    const paste = (event: ClipboardEvent) => {
      const file = [...(event.clipboardData?.files ?? [])].find((item) => item.type.startsWith('image/'));
      if (!file || busy) return;
      event.preventDefault();
      onImage(file);
    };
    // A file dropped beside the drop zone would otherwise replace the console with the image.
    const keep = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
    };
    document.addEventListener('paste', paste);
    window.addEventListener('dragover', keep);
    window.addEventListener('drop', keep);
    return () => {
      document.removeEventListener('paste', paste);
      window.removeEventListener('dragover', keep);
      window.removeEventListener('drop', keep);
    };
  }, [busy, onImage]);

  return (
    <Page title={t('leakcheck.title')} lead={t('leakcheck.lead')} wide>
      <LeakCheckView state={state} originalSrc={originalSrc} download={download} onImage={onImage} />
    </Page>
  );
}
