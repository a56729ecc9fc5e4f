import { ApiError } from '../../api';
import { errorMessage, isSilent } from '../../errors';
import { useI18n, type Translate } from '../../i18n';
import type { LeakCheckState } from '../../leakcheck/check';
import { formatSize } from '../../leakcheck/image';
import { DropZone } from './drop-zone';
import { LeakReport, Verdict, type RedactedDownload } from './leak-report';

/** Why there is no report, in one sentence; undefined when there is nothing to say. */
export function leakCheckProblem(state: LeakCheckState, t: Translate, language: string): string | undefined {
  switch (state.phase) {
    case 'refused': {
      const { refusal, image } = state;
      switch (refusal.reason) {
        case 'too_large':
          return t('leakcheck.refused.too_large', {
            name: image.name,
            size: formatSize(refusal.bytes, language),
            max: formatSize(refusal.max, language),
          });
        case 'empty':
          return t('leakcheck.refused.empty', { name: image.name });
        case 'not_readable':
          return t('leakcheck.refused.not_readable', { name: image.name });
      }
      break;
    }
    case 'failed': {
      const { error, image } = state;
      if (isSilent(error)) return undefined;
      if (error instanceof ApiError) {
        // A 413 without our error body comes from a proxy in front of the server, whose limit
        // may be lower than ours: say what happened without promising a size.
        if (error.status === 413 && error.code !== 'image_too_large')
          return t('leakcheck.error.tooLarge', { name: image.name });
        if (error.code === 'unsupported_media_type') return t('leakcheck.error.unsupported');
      }
      return errorMessage(error, t);
    }
    case 'idle':
    case 'checking':
    case 'checked':
      return undefined;
  }
}

/**
 * The leak check as the agent sees it at each step: where to hand the image over, what went
 * wrong, the progress while the server reads it, the verdict and the report. The alert and
 * status regions stay in the page, so a refusal, the progress and the verdict are announced.
 */
export function LeakCheckView({
  state,
  originalSrc,
  download,
  onImage,
}: {
  state: LeakCheckState;
  /** The chosen image, once the browser has read it. */
  originalSrc: string | undefined;
  download: RedactedDownload | undefined;
  onImage: (file: File) => void;
}) {
  const { t, language } = useI18n();
  const problem = leakCheckProblem(state, t, language);
  return (
    <>
      <DropZone busy={state.phase === 'checking'} again={state.phase === 'checked'} onImage={onImage} />
      <div role="alert" aria-atomic="true" className={problem ? 'message message-error' : 'message-empty'}>
        {problem}
      </div>
      <div role="status" aria-live="polite" aria-atomic="true" className="leak-status">
        {state.phase === 'checking' ? (
          <div className="leak-progress">
            <progress aria-label={t('leakcheck.progress')} />
            <p>{t('leakcheck.checking', { name: state.image.name })}</p>
          </div>
        ) : null}
        {state.phase === 'checked' ? <Verdict result={state.result} /> : null}
      </div>
      {state.phase === 'checking' && originalSrc !== undefined ? (
        <img className="leak-preview" src={originalSrc} alt="" />
      ) : null}
      {state.phase === 'checked' ? (
        <LeakReport
          result={state.result}
          name={state.image.name}
          originalSrc={originalSrc}
          download={download}
        />
      ) : null}
    </>
  );
}
