/**
 * Inside the meeting: the stage, the side panels (lobby for hosts, participants, chat, all open
 * on arrival) and the controls. Every action goes through the `MeetingClient`; what is shown
 * comes from its snapshot only, so the screen never claims more than the server said.
 */
import type { LobbyEntry, Participant } from '@rempart/core';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../../i18n';
import type { MeetingClient, MeetingSnapshot } from '../../meeting/client';
import { isHost, sortedRoster } from '../../meeting/state';
import { signalErrorKey } from '../../meeting/wording';
import { ClassificationBadge } from '../badges';
import { ConfirmDialog } from '../confirm-dialog';
import { ControlButton, DeviceProblemMessage, DeviceToggles } from './device-toggles';
import { E2eeIndicator } from './e2ee-indicator';
import { AttemptToast, LobbyPanel } from './lobby-panel';
import { ChatPanel } from './chat-panel';
import { RosterPanel } from './roster-panel';
import { Stage } from './stage';

type Panel = 'lobby' | 'participants' | 'chat';
type Pending = { kind: 'remove'; participant: Participant } | { kind: 'end' } | undefined;

const panelIds: Readonly<Record<Panel, string>> = {
  lobby: 'room-lobby',
  participants: 'room-participants',
  chat: 'room-chat',
};

export function JoinedRoom({ client, snapshot }: { client: MeetingClient; snapshot: MeetingSnapshot }) {
  const { t } = useI18n();
  const { state, local } = snapshot;
  const heading = useRef<HTMLHeadingElement>(null);
  const [open, setOpen] = useState<Readonly<Record<Panel, boolean>>>({
    lobby: true,
    participants: true,
    chat: true,
  });
  const [pending, setPending] = useState<Pending>();
  const host = isHost(state);
  const selfId = state.self?.id;
  const roster = sortedRoster(state.roster, selfId);
  const meeting = state.meeting;
  const locked = meeting?.locked === true;
  const hand = state.self?.hand === true;

  // Arriving in the meeting (from the lobby or the pre-join screen) is a new screen.
  useEffect(() => heading.current?.focus(), []);

  const toggle = (panel: Panel) => setOpen((previous) => ({ ...previous, [panel]: !previous[panel] }));
  const anyPanel = (host && open.lobby) || open.participants || open.chat;

  const admit = (entry: LobbyEntry) => client.admit(entry.id);
  const deny = (entry: LobbyEntry) => client.deny(entry.id);

  return (
    <div className="room-joined">
      <header className="room-bar">
        <h1 ref={heading} tabIndex={-1} className="room-title">
          {meeting?.title ?? t('room.title')}
        </h1>
        {meeting ? <ClassificationBadge classification={meeting.classification} /> : null}
        {locked ? <span className="badge badge-locked">{t('meeting.locked')}</span> : null}
        <MediaStatus snapshot={snapshot} />
        <E2eeIndicator e2ee={snapshot.e2ee} />
      </header>

      <Notices client={client} snapshot={snapshot} />

      <div className={anyPanel ? 'room-body' : 'room-body room-body-full'}>
        <div className="stage-wrap">
          <Stage
            roster={roster}
            selfId={selfId}
            local={local}
            remote={snapshot.remote}
            speaker={snapshot.speaker}
            speaking={snapshot.speaking}
          />
          {host ? <AttemptToast attempts={state.attempts} /> : null}
        </div>
        <aside className="room-side" aria-label={t('room.panels')} hidden={!anyPanel}>
          {host ? (
            <div hidden={!open.lobby}>
              <LobbyPanel
                id={panelIds.lobby}
                lobby={state.lobby}
                attempts={state.attempts}
                onAdmit={admit}
                onDeny={deny}
              />
            </div>
          ) : null}
          <div hidden={!open.participants}>
            <RosterPanel
              id={panelIds.participants}
              roster={roster}
              selfId={selfId}
              local={local}
              host={host}
              actions={{
                mute: (participant, source) => client.mute(participant.id, source),
                promote: (participant) => client.promote(participant.id),
                remove: (participant) => setPending({ kind: 'remove', participant }),
              }}
            />
          </div>
          <div hidden={!open.chat}>
            <ChatPanel
              id={panelIds.chat}
              chat={state.chat}
              opened={snapshot.openedChat}
              sealing={snapshot.e2ee.state !== 'clear'}
              selfId={selfId}
              onSend={(text) => client.sendChat(text)}
            />
          </div>
        </aside>
      </div>

      <div className="controls" role="group" aria-label={t('room.controls')}>
        <div className="controls-group">
          <DeviceToggles client={client} local={local} />
          <ControlButton
            icon="screen"
            label={t('room.screen')}
            pressed={local.screen !== null}
            testId="toggle-screen"
            onClick={() => void client.toggleScreen()}
          />
          <ControlButton
            icon="hand"
            label={t('room.hand')}
            pressed={hand}
            testId="raise-hand"
            onClick={() => client.raiseHand(!hand)}
          />
        </div>
        <div className="controls-group">
          <ControlButton
            icon="chat"
            label={t('room.chat')}
            testId="open-chat"
            controls={panelIds.chat}
            expanded={open.chat}
            onClick={() => toggle('chat')}
          />
          <ControlButton
            icon="people"
            label={t('room.participants')}
            testId="open-participants"
            controls={panelIds.participants}
            expanded={open.participants}
            onClick={() => toggle('participants')}
          />
          {host ? (
            <ControlButton
              icon="lobby"
              label={
                state.lobby.length > 0
                  ? t('room.lobbyWaiting', { count: state.lobby.length })
                  : t('room.lobby')
              }
              testId="open-lobby"
              controls={panelIds.lobby}
              expanded={open.lobby}
              onClick={() => toggle('lobby')}
            />
          ) : null}
        </div>
        <div className="controls-group">
          {host ? (
            <>
              <ControlButton
                icon="lock"
                label={t('room.lock')}
                pressed={locked}
                testId="lock"
                onClick={() => client.lock(!locked)}
              />
              <button
                type="button"
                className="control control-danger"
                data-testid="end-meeting"
                onClick={() => setPending({ kind: 'end' })}
              >
                <span className="control-label">{t('room.endForAll')}</span>
              </button>
            </>
          ) : null}
          <button
            type="button"
            className="control control-leave"
            data-testid="leave"
            onClick={() => client.leave()}
          >
            <span className="control-label">{t('room.leave')}</span>
          </button>
        </div>
      </div>

      {pending?.kind === 'remove' ? (
        <ConfirmDialog
          title={t('room.removeConfirmTitle', { name: pending.participant.displayName })}
          confirmLabel={t('room.remove')}
          danger
          onConfirm={() => {
            client.remove(pending.participant.id);
            setPending(undefined);
          }}
          onCancel={() => setPending(undefined)}
        >
          <p>{t('room.removeConfirm')}</p>
        </ConfirmDialog>
      ) : null}
      {pending?.kind === 'end' ? (
        <ConfirmDialog
          title={t('meetings.endConfirmTitle')}
          confirmLabel={t('room.endForAll')}
          danger
          onConfirm={() => {
            client.endMeeting();
            setPending(undefined);
          }}
          onCancel={() => setPending(undefined)}
        >
          <p>{t('meetings.endConfirm')}</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** Whether audio and video are flowing; a failure is said in words, with the reason given. */
function MediaStatus({ snapshot }: { snapshot: MeetingSnapshot }) {
  const { t } = useI18n();
  const { media, mediaProblem } = snapshot;
  return (
    <p className={`media-status media-${media}`} role="status" aria-live="polite" data-testid="media-status">
      <span className="media-dot" aria-hidden="true" />
      {media === 'failed' && mediaProblem !== undefined
        ? t('room.media.failedReason', { reason: mediaProblem })
        : t(`room.media.${media}`)}
    </p>
  );
}

/** What happened to me (a host turned my microphone off) or went wrong (an action refused). */
function Notices({ client, snapshot }: { client: MeetingClient; snapshot: MeetingSnapshot }) {
  const { t } = useI18n();
  const { notice } = snapshot.state;
  let info: string | undefined;
  let problem: string | undefined;
  switch (notice?.kind) {
    case 'muted':
      info = t(`room.mutedBy.${notice.source}`, { name: notice.by });
      break;
    case 'signal-error':
      // A failed media connection is told by the media status already.
      if (notice.code !== 'media_failed') problem = t(signalErrorKey(notice.code));
      break;
    case 'session-ended':
    case undefined:
      break;
  }
  const dismiss = (
    <button type="button" className="button button-small button-quiet" onClick={() => client.dismissNotice()}>
      {t('room.dismiss')}
    </button>
  );
  // The socket dropped: the room stays as it was while the presence is taken back.
  const reconnecting = snapshot.state.phase === 'reconnecting';
  return (
    <div className="room-notices">
      <div
        role="status"
        aria-live="polite"
        className={reconnecting ? 'notice notice-info' : 'message-empty'}
        data-testid="room-reconnecting"
      >
        {reconnecting ? t('room.resuming') : null}
      </div>
      <div role="status" aria-live="polite" className={info ? 'notice notice-info' : 'message-empty'}>
        {info}
        {info ? dismiss : null}
      </div>
      <div role="alert" className={problem ? 'notice notice-error' : 'message-empty'}>
        {problem}
        {problem ? dismiss : null}
      </div>
      <DeviceProblemMessage problem={snapshot.local.problem} />
    </div>
  );
}
