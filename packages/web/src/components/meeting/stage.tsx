/**
 * The meeting stage: one tile per participant (their camera, or their initials), a large tile
 * for a screen share or the active speaker, and every remote microphone played. Each tile
 * carries the participant's verified identity; one's own tile shows the local camera at once,
 * without waiting for the media server.
 */
import type { Participant } from '@rempart/core';
import type { LocalSnapshot } from '../../meeting/devices';
import { stageLayout, type StageTile } from '../../meeting/layout';
import type { RemoteTracks } from '../../meeting/media';
import { initials } from '../../meeting/state';
import { useI18n } from '../../i18n';
import { Icon } from './icons';
import { GuestMark, IdentityBadge } from './identity-badge';
import { AudioSink, VideoView } from './media-elements';

export interface StageProps {
  roster: readonly Participant[];
  selfId: string | undefined;
  local: LocalSnapshot;
  remote: RemoteTracks;
  speaker: string | undefined;
  speaking: ReadonlySet<string>;
}

/** What a participant sends now: one's own from the devices, the others' from the roster. */
function sending(participant: Participant, self: boolean, local: LocalSnapshot) {
  if (!self) return { audio: participant.audio, video: participant.video };
  return { audio: local.micOn && local.microphone !== null, video: local.cameraOn && local.camera !== null };
}

export function Stage({ roster, selfId, local, remote, speaker, speaking }: StageProps) {
  const { t } = useI18n();
  const layout = stageLayout(roster, selfId, speaker);
  const byId = new Map(roster.map((p) => [p.id, p]));

  const render = (tile: StageTile, large: boolean) => {
    const participant = byId.get(tile.participantId);
    if (!participant) return null;
    const self = participant.id === selfId;
    const key = `${tile.source}:${participant.id}`;
    if (tile.source === 'screen') {
      const track = self ? local.screen : remote.get(participant.id)?.screen;
      return <ScreenTile key={key} participant={participant} track={track} large={large} />;
    }
    return (
      <CameraTile
        key={key}
        participant={participant}
        self={self}
        track={self ? local.camera : remote.get(participant.id)?.camera}
        local={local}
        large={large}
        speaking={speaking.has(participant.id)}
        speaker={speaker === participant.id && roster.length > 1}
      />
    );
  };

  return (
    <section className="stage" aria-label={t('room.stage')}>
      {layout.featured ? (
        <div className="stage-featured">
          <div className="stage-main">{render(layout.featured, true)}</div>
          <div className="stage-strip">{layout.tiles.map((tile) => render(tile, false))}</div>
        </div>
      ) : (
        <div className={`stage-grid stage-cols-${layout.columns}`}>
          {layout.tiles.map((tile) => render(tile, false))}
        </div>
      )}
      <RemoteAudio remote={remote} selfId={selfId} />
    </section>
  );
}

/** Every remote microphone, played; one's own is never played back. */
function RemoteAudio({ remote, selfId }: { remote: RemoteTracks; selfId: string | undefined }) {
  const sinks: { key: string; track: MediaStreamTrack }[] = [];
  for (const [participantId, sources] of remote) {
    if (participantId === selfId || !sources.microphone) continue;
    sinks.push({ key: `${participantId}:${sources.microphone.id}`, track: sources.microphone });
  }
  return (
    <div className="remote-audio">
      {sinks.map((sink) => (
        <AudioSink key={sink.key} track={sink.track} />
      ))}
    </div>
  );
}

function CameraTile({
  participant,
  self,
  track,
  local,
  large,
  speaking,
  speaker,
}: {
  participant: Participant;
  self: boolean;
  track: MediaStreamTrack | null | undefined;
  local: LocalSnapshot;
  large: boolean;
  speaking: boolean;
  speaker: boolean;
}) {
  const { t } = useI18n();
  const { audio, video } = sending(participant, self, local);
  const showVideo = video && track !== null && track !== undefined;
  const classes = [
    'tile',
    large ? 'tile-large' : '',
    speaking ? 'tile-speaking' : '',
    speaker ? 'tile-speaker' : '',
    participant.reconnecting === true ? 'tile-reconnecting' : '',
  ];
  return (
    <figure
      className={classes.filter((c) => c !== '').join(' ')}
      data-testid="tile"
      data-participant-id={participant.id}
      data-name={participant.displayName}
      data-guest={participant.guest ? 'true' : 'false'}
      data-self={self ? 'true' : 'false'}
      data-reconnecting={participant.reconnecting === true ? 'true' : 'false'}
    >
      {showVideo ? (
        <VideoView track={track} mirrored={self} />
      ) : (
        <div className="tile-placeholder" aria-hidden="true">
          <span className="tile-initials">{initials(participant.displayName)}</span>
        </div>
      )}
      {participant.reconnecting === true ? (
        <span className="tile-reconnecting-mark" role="status">
          {t('room.participantReconnecting')}
        </span>
      ) : null}
      {participant.hand ? (
        <span className="tile-hand">
          <Icon name="hand" />
          <span className="visually-hidden">{t('room.handRaised')}</span>
        </span>
      ) : null}
      <figcaption className="tile-caption">
        <IdentityBadge person={participant} mfaAt={participant.mfaAt} self={self} />
        <span className="tile-state">
          {participant.host ? <span className="host-mark">{t('room.host')}</span> : null}
          {speaking ? <span className="visually-hidden">{t('room.speaking')}</span> : null}
          <span
            className={audio ? 'state-icon' : 'state-icon state-off'}
            title={t(audio ? 'room.micOn' : 'room.micOff')}
          >
            <Icon name={audio ? 'mic' : 'micOff'} />
            <span className="visually-hidden">{t(audio ? 'room.micOn' : 'room.micOff')}</span>
          </span>
          {video ? null : (
            <span className="state-icon state-off" title={t('room.cameraOffState')}>
              <Icon name="cameraOff" />
              <span className="visually-hidden">{t('room.cameraOffState')}</span>
            </span>
          )}
        </span>
      </figcaption>
    </figure>
  );
}

function ScreenTile({
  participant,
  track,
  large,
}: {
  participant: Participant;
  track: MediaStreamTrack | null | undefined;
  large: boolean;
}) {
  const { t } = useI18n();
  return (
    <figure
      className={large ? 'tile tile-screen tile-large' : 'tile tile-screen'}
      data-testid="screen-tile"
      data-participant-id={participant.id}
      data-name={participant.displayName}
    >
      {track ? (
        <VideoView track={track} fit="contain" />
      ) : (
        <div className="tile-placeholder" aria-hidden="true">
          <Icon name="screen" />
        </div>
      )}
      <figcaption className="tile-caption">
        <span className="id-badge">
          <span className="id-name">
            {participant.guest ? <GuestMark /> : null}
            <Icon name="screen" /> {t('room.screenOf', { name: participant.displayName })}
          </span>
        </span>
      </figcaption>
    </figure>
  );
}
