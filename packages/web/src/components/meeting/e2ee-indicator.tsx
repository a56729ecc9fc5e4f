/**
 * End-to-end encryption as the participant sees it: on, off (keys not agreed yet: nothing of
 * theirs is sent meanwhile) or failed, and on request the safety code of the current epoch,
 * the same on every member's screen, to compare aloud. A different code on two screens means
 * the two are not in the same group: someone (or a server) is in between.
 *
 * `data-testid="e2ee-state"` carries the state in `data-state`, and the frame counters in
 * `data-decrypted` / `data-encrypted` / `data-failed`: a stable hook for browser tests.
 */
import { useState } from 'react';
import { useI18n } from '../../i18n';
import type { E2eeSnapshot } from '../../meeting/e2ee/session';

export function E2eeIndicator({ e2ee }: { e2ee: E2eeSnapshot }) {
  const { t } = useI18n();
  const [showCode, setShowCode] = useState(false);
  const { state, safetyCode, frames } = e2ee;
  return (
    <div className={`e2ee e2ee-${state}`}>
      <p
        className="e2ee-state"
        role="status"
        aria-live="polite"
        data-testid="e2ee-state"
        data-state={state}
        data-epoch={e2ee.epoch}
        data-encrypted={frames.encrypted}
        data-decrypted={frames.decrypted}
        data-failed={frames.failed}
      >
        <span className="e2ee-lock" aria-hidden="true" />
        {t(`room.e2ee.${state}`)}
      </p>
      {state === 'on' && safetyCode !== undefined ? (
        <>
          <button
            type="button"
            className="button button-small e2ee-code-toggle"
            aria-expanded={showCode}
            aria-controls="e2ee-safety-code"
            data-testid="e2ee-show-code"
            onClick={() => setShowCode(!showCode)}
          >
            {t(showCode ? 'room.e2ee.hideCode' : 'room.e2ee.showCode')}
          </button>
          <p id="e2ee-safety-code" className="e2ee-code" hidden={!showCode}>
            {t('room.e2ee.codeHelp')} <code data-testid="e2ee-safety-code">{safetyCode}</code>
          </p>
        </>
      ) : null}
    </div>
  );
}
