/**
 * For hosts: who waits in the lobby, with what the identity service says of them (name, unit,
 * invited or not, external guest, removed earlier), to admit or deny; and every attempt to
 * join that was refused or sent to the lobby, as it happens.
 */
import type { LobbyEntry } from '@rempart/core';
import { useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import type { AttemptNotice } from '../../meeting/state';
import { attemptKey, attemptReasonKey, attemptWho } from '../../meeting/wording';
import { IdentityBadge } from './identity-badge';

/** How long the newest attempt stays on the stage as a notice (it stays in the list). */
const TOAST_MS = 8000;

export function LobbyPanel({
  id,
  lobby,
  attempts,
  onAdmit,
  onDeny,
}: {
  id: string;
  lobby: readonly LobbyEntry[];
  attempts: readonly AttemptNotice[];
  onAdmit: (entry: LobbyEntry) => void;
  onDeny: (entry: LobbyEntry) => void;
}) {
  const { t, formatNumber, formatTime } = useI18n();
  return (
    <section id={id} className="panel panel-lobby" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>
        {t('room.lobby')} <span className="count">({formatNumber(lobby.length)})</span>
      </h2>
      {lobby.length === 0 ? (
        <p className="muted">{t('room.lobbyEmpty')}</p>
      ) : (
        <ul className="lobby-list">
          {lobby.map((entry) => (
            <li
              key={entry.id}
              className="lobby-entry"
              data-testid="lobby-entry"
              data-name={entry.displayName}
            >
              <IdentityBadge person={entry} />
              <span className="lobby-marks">
                <span className={entry.invited ? 'badge badge-invited' : 'badge badge-uninvited'}>
                  {t(entry.invited ? 'room.invited' : 'room.notInvited')}
                </span>
                {entry.removedBefore ? (
                  <span className="badge badge-removed">{t('room.removedBefore')}</span>
                ) : null}
                <time dateTime={entry.since} className="muted">
                  {t('room.waitingSince', { time: formatTime(entry.since) })}
                </time>
              </span>
              <span className="lobby-actions">
                <button
                  type="button"
                  className="button button-small button-primary"
                  data-testid="admit"
                  onClick={() => onAdmit(entry)}
                >
                  {t('room.admit')}
                  <span className="visually-hidden"> ({entry.displayName})</span>
                </button>
                <button
                  type="button"
                  className="button button-small button-danger"
                  data-testid="deny"
                  onClick={() => onDeny(entry)}
                >
                  {t('room.deny')}
                  <span className="visually-hidden"> ({entry.displayName})</span>
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3 id={`${id}-attempts`}>{t('room.attempts')}</h3>
      <ul
        className="attempt-list"
        aria-labelledby={`${id}-attempts`}
        aria-live="polite"
        aria-relevant="additions"
      >
        {attempts.map((attempt) => (
          <li
            key={attempt.key}
            className={`attempt attempt-${attempt.outcome}`}
            data-testid="attempt"
            data-outcome={attempt.outcome}
            data-reason={attempt.reason ?? undefined}
          >
            <time dateTime={attempt.at}>{formatTime(attempt.at)}</time> <AttemptText attempt={attempt} />
          </li>
        ))}
      </ul>
      {attempts.length === 0 ? <p className="muted">{t('room.attemptsEmpty')}</p> : null}
    </section>
  );
}

export function AttemptText({ attempt }: { attempt: AttemptNotice }) {
  const { t } = useI18n();
  const who = attemptWho(attempt.who);
  return (
    <>
      {t(attemptKey(attempt.outcome), {
        who: t(who.key, who.values),
        reason: t(attemptReasonKey(attempt.reason)),
      })}
    </>
  );
}

/**
 * The newest attempt, briefly, over the stage: a host with the panels closed still sees it.
 * Hidden from assistive technologies, which hear it from the list's live region already.
 */
export function AttemptToast({ attempts }: { attempts: readonly AttemptNotice[] }) {
  const newest = attempts[0];
  const newestKey = newest?.key;
  const [shown, setShown] = useState<number | undefined>();
  useEffect(() => {
    if (newestKey === undefined) return;
    setShown(newestKey);
    const timer = setTimeout(() => setShown(undefined), TOAST_MS);
    return () => clearTimeout(timer);
  }, [newestKey]);
  if (!newest || shown !== newest.key) return null;
  return (
    <div className={`toast attempt-${newest.outcome}`} aria-hidden="true">
      <AttemptText attempt={newest} />
    </div>
  );
}
