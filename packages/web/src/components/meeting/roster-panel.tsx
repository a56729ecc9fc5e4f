/**
 * Everyone in the meeting with their verified identity, host mark, raised hand and what they
 * send; for hosts, the actions on each person. Muting is enforced by the media server, not by
 * the muted browser; removing asks first, because the person's media stops at once.
 */
import type { Participant } from '@rempart/core';
import { useI18n } from '../../i18n';
import type { LocalSnapshot } from '../../meeting/devices';
import { Icon } from './icons';
import { IdentityBadge } from './identity-badge';

export interface RosterActions {
  mute(participant: Participant, source: 'microphone' | 'camera' | 'screen'): void;
  promote(participant: Participant): void;
  /** Asks for confirmation first. */
  remove(participant: Participant): void;
}

export function RosterPanel({
  id,
  roster,
  selfId,
  local,
  host,
  actions,
}: {
  id: string;
  /** Sorted: oneself, the hosts, then by name. */
  roster: readonly Participant[];
  selfId: string | undefined;
  local: LocalSnapshot;
  /** Whether I am a host: the actions show then. */
  host: boolean;
  actions: RosterActions;
}) {
  const { t, formatNumber } = useI18n();
  return (
    <section id={id} className="panel panel-roster" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>
        {t('room.participants')} <span className="count">({formatNumber(roster.length)})</span>
      </h2>
      <ul className="roster">
        {roster.map((participant) => (
          <RosterEntry
            key={participant.id}
            participant={participant}
            self={participant.id === selfId}
            local={local}
            host={host}
            actions={actions}
          />
        ))}
      </ul>
    </section>
  );
}

function RosterEntry({
  participant,
  self,
  local,
  host,
  actions,
}: {
  participant: Participant;
  self: boolean;
  local: LocalSnapshot;
  host: boolean;
  actions: RosterActions;
}) {
  const { t } = useI18n();
  const audio = self ? local.micOn && local.microphone !== null : participant.audio;
  const video = self ? local.cameraOn && local.camera !== null : participant.video;
  const screen = self ? local.screen !== null : participant.screen;
  const name = <span className="visually-hidden"> ({participant.displayName})</span>;
  return (
    <li
      className="roster-entry"
      data-testid="roster-entry"
      data-participant-id={participant.id}
      data-name={participant.displayName}
      data-reconnecting={participant.reconnecting === true ? 'true' : 'false'}
    >
      <div className="roster-who">
        <IdentityBadge person={participant} mfaAt={participant.mfaAt} self={self} />
        <span className="roster-marks">
          {participant.host ? <span className="host-mark">{t('room.host')}</span> : null}
          {participant.reconnecting === true ? (
            <span className="reconnecting-mark" data-testid="reconnecting-mark">
              {t('room.participantReconnecting')}
            </span>
          ) : null}
          {participant.hand ? (
            <span className="hand-mark">
              <Icon name="hand" /> {t('room.handRaised')}
            </span>
          ) : null}
          <span
            className={audio ? 'state-icon' : 'state-icon state-off'}
            title={t(audio ? 'room.micOn' : 'room.micOff')}
          >
            <Icon name={audio ? 'mic' : 'micOff'} />
            <span className="visually-hidden">{t(audio ? 'room.micOn' : 'room.micOff')}</span>
          </span>
          <span
            className={video ? 'state-icon' : 'state-icon state-off'}
            title={t(video ? 'room.cameraOnState' : 'room.cameraOffState')}
          >
            <Icon name={video ? 'camera' : 'cameraOff'} />
            <span className="visually-hidden">{t(video ? 'room.cameraOnState' : 'room.cameraOffState')}</span>
          </span>
          {screen ? (
            <span className="state-icon" title={t('room.sharing')}>
              <Icon name="screen" />
              <span className="visually-hidden">{t('room.sharing')}</span>
            </span>
          ) : null}
        </span>
      </div>
      {host && !self ? (
        <div
          className="roster-actions"
          role="group"
          aria-label={t('room.actionsFor', { name: participant.displayName })}
        >
          <button
            type="button"
            className="button button-small"
            data-testid="mute-microphone"
            disabled={!participant.audio}
            onClick={() => actions.mute(participant, 'microphone')}
          >
            {t('room.muteMicrophone')}
            {name}
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid="mute-camera"
            disabled={!participant.video}
            onClick={() => actions.mute(participant, 'camera')}
          >
            {t('room.muteCamera')}
            {name}
          </button>
          {participant.screen ? (
            <button
              type="button"
              className="button button-small"
              data-testid="mute-screen"
              onClick={() => actions.mute(participant, 'screen')}
            >
              {t('room.muteScreen')}
              {name}
            </button>
          ) : null}
          {participant.host || participant.guest ? null : (
            <button
              type="button"
              className="button button-small"
              data-testid="promote"
              onClick={() => actions.promote(participant)}
            >
              {t('room.promote')}
              {name}
            </button>
          )}
          <button
            type="button"
            className="button button-small button-danger"
            data-testid="remove"
            onClick={() => actions.remove(participant)}
          >
            {t('room.remove')}
            {name}
          </button>
        </div>
      ) : null}
    </li>
  );
}
