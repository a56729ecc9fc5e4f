/**
 * The meeting room's screens outside the meeting itself: the check, a refusal in plain words,
 * the step-up, the pre-join preview, the lobby, and the ends (removed, ended, denied, left,
 * connection lost), each saying what happened and what can be done next.
 */
import type { MeetingPreview } from '@rempart/core';
import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../../i18n';
import type { MeetingClient, MeetingSnapshot } from '../../meeting/client';
import { refusalKey } from '../../meeting/wording';
import { rememberReturnPath } from '../../return-path';
import { Link } from '../../router';
import { useSession } from '../../session';
import { ClassificationBadge } from '../badges';
import { ErrorMessage, StatusMessage } from '../messages';
import { SelfPreview } from './device-toggles';
import { GuestJoin } from './guest-join';
import { useFormatWindow } from './meeting-facts';

/** One screen: its heading takes the focus when it replaces another, so the change is noticed. */
export function RoomScreen({
  title,
  tone = 'info',
  children,
}: {
  title: string;
  tone?: 'info' | 'warning' | 'end';
  children?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <div className={`room-screen room-screen-${tone}`}>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </div>
  );
}

/** What a person outside may know of the meeting: title, classification, time. */
function MeetingSummary({ preview }: { preview: MeetingPreview | null }) {
  const formatWindow = useFormatWindow();
  if (!preview) return null;
  return (
    <p className="room-summary">
      <strong>{preview.title}</strong> <ClassificationBadge classification={preview.classification} />{' '}
      <span className="muted">{formatWindow(preview.startsAt, preview.endsAt)}</span>
    </p>
  );
}

function useFullSessionOrNot(): boolean {
  const { state } = useSession();
  return state?.authenticated === true && state.stage === 'full';
}

function BackToMeetings() {
  const { t } = useI18n();
  const full = useFullSessionOrNot();
  if (!full) return null;
  return (
    <Link to="/meetings" className="button">
      {t('room.backToMeetings')}
    </Link>
  );
}

/** To sign in and come back here. */
function SignInLink({ linkId }: { linkId: string }) {
  const { t } = useI18n();
  return (
    <Link
      to="/sign-in"
      className="button button-primary"
      data-testid="sign-in"
      onClick={() => rememberReturnPath(`/m/${linkId}`)}
    >
      {t('room.signIn')}
    </Link>
  );
}

export function CheckingScreen({
  snapshot,
  onRetry,
}: {
  snapshot: MeetingSnapshot | undefined;
  onRetry: () => void;
}) {
  const { t } = useI18n();
  const phase = snapshot?.state.phase ?? 'checking';
  const message =
    phase === 'connecting'
      ? t('room.connecting')
      : phase === 'reconnecting'
        ? t('room.reconnecting', { count: snapshot?.state.retries ?? 1 })
        : t('room.checking');
  if (snapshot?.checkError !== undefined)
    return (
      <RoomScreen title={t('room.checkFailedTitle')} tone="warning">
        <ErrorMessage error={snapshot.checkError} />
        <p className="actions">
          <button type="button" className="button button-primary" onClick={onRetry}>
            {t('common.retry')}
          </button>
        </p>
      </RoomScreen>
    );
  return (
    <div className="room-screen room-screen-info">
      <StatusMessage message={message} />
    </div>
  );
}

export function SignedOutScreen({
  linkId,
  snapshot,
  onGuestVerified,
}: {
  linkId: string;
  snapshot: MeetingSnapshot;
  onGuestVerified: () => void;
}) {
  const { t } = useI18n();
  const { guestsWelcome, notice } = snapshot.state;
  return (
    <RoomScreen title={t('room.signInTitle')}>
      {notice?.kind === 'session-ended' ? (
        <p className="message message-info">{t('room.sessionEnded')}</p>
      ) : null}
      <p>{t('room.signInText')}</p>
      <p className="actions">
        <SignInLink linkId={linkId} />
      </p>
      {guestsWelcome ? <GuestJoin linkId={linkId} onVerified={onGuestVerified} /> : null}
    </RoomScreen>
  );
}

export function RefusedScreen({
  linkId,
  snapshot,
  onRetry,
}: {
  linkId: string;
  snapshot: MeetingSnapshot;
  onRetry: () => void;
}) {
  const { t } = useI18n();
  const { state } = useSession();
  const signedIn = state?.authenticated === true && state.stage === 'full';
  const { reason } = snapshot.state;
  // Waiting may change these; the others are decisions that trying again will not undo.
  const retry = reason === 'not_started' || reason === 'locked' || reason === 'rate_limited';
  return (
    <RoomScreen title={t('room.refusedTitle')} tone="warning">
      <p className="refusal" data-testid="refusal">
        {t(refusalKey(reason))}
      </p>
      <p className="muted">{t('room.refusedNote')}</p>
      <p className="actions">
        {retry ? (
          <button type="button" className="button button-primary" onClick={onRetry}>
            {t('room.tryAgain')}
          </button>
        ) : null}
        {signedIn ? <BackToMeetings /> : <SignInLink linkId={linkId} />}
      </p>
    </RoomScreen>
  );
}

export function StepUpScreen({ client, snapshot }: { client: MeetingClient; snapshot: MeetingSnapshot }) {
  const { t } = useI18n();
  const preview = snapshot.state.preview;
  return (
    <RoomScreen title={t('room.stepUpTitle')}>
      <MeetingSummary preview={preview} />
      <p>
        {preview
          ? t('room.stepUpClassified', { classification: t(`clearance.${preview.classification}`) })
          : t('room.stepUpText')}
      </p>
      <p className="actions">
        <button
          type="button"
          className="button button-primary"
          data-testid="step-up"
          onClick={() => void client.stepUp()}
        >
          {t('room.stepUpButton')}
        </button>
        <BackToMeetings />
      </p>
    </RoomScreen>
  );
}

export function PrejoinScreen({
  client,
  snapshot,
  joining,
  onJoin,
}: {
  client: MeetingClient;
  snapshot: MeetingSnapshot;
  /** Join was asked for and waits for the camera and microphone to be ready. */
  joining: boolean;
  onJoin: () => void;
}) {
  const { t } = useI18n();
  const { state, local } = snapshot;
  const lobby = state.expected === 'lobby';
  return (
    <RoomScreen title={t('room.prejoinTitle')}>
      <MeetingSummary preview={state.preview} />
      <div className="prejoin">
        <SelfPreview client={client} local={local} />
        <div className="prejoin-join">
          <p>{t(lobby ? 'room.prejoinLobby' : 'room.prejoinAdmit')}</p>
          <p className="actions">
            <button
              type="button"
              className="button button-primary button-large"
              data-testid="join"
              disabled={joining}
              onClick={onJoin}
            >
              {t(lobby ? 'room.askToJoin' : 'room.join')}
            </button>
            <BackToMeetings />
          </p>
          <StatusMessage message={joining ? t('room.joining') : undefined} />
        </div>
      </div>
    </RoomScreen>
  );
}

export function LobbyScreen({ client, snapshot }: { client: MeetingClient; snapshot: MeetingSnapshot }) {
  const { t } = useI18n();
  return (
    <RoomScreen title={t('room.lobbyTitle')}>
      <MeetingSummary preview={snapshot.state.preview} />
      <div className="prejoin">
        <SelfPreview client={client} local={snapshot.local} />
        <div className="prejoin-join">
          <p role="status" aria-live="polite" className="message message-info lobby-status">
            <span className="waiting-dot" aria-hidden="true" />
            {t('room.lobbyText')}
          </p>
          <p>{t('room.lobbyHint')}</p>
          <p className="actions">
            <button type="button" className="button" data-testid="leave" onClick={() => client.leave()}>
              {t('room.leave')}
            </button>
          </p>
        </div>
      </div>
    </RoomScreen>
  );
}

export type EndPhase = 'removed' | 'ended' | 'denied' | 'left' | 'disconnected';

export function EndScreen({
  phase,
  client,
  snapshot,
}: {
  phase: EndPhase;
  client: MeetingClient;
  snapshot: MeetingSnapshot;
}) {
  const { t } = useI18n();
  const { by } = snapshot.state;
  const rejoin = (label: string) => (
    <button
      type="button"
      className="button button-primary"
      data-testid="rejoin"
      onClick={() => void client.rejoin()}
    >
      {label}
    </button>
  );
  switch (phase) {
    case 'removed':
      return (
        <RoomScreen title={t('room.removedTitle')} tone="end">
          {by !== null ? <p>{t('room.removedBy', { name: by })}</p> : null}
          <p>{t('room.removedText')}</p>
          <p className="actions">
            {rejoin(t('room.askAgain'))}
            <BackToMeetings />
          </p>
        </RoomScreen>
      );
    case 'ended':
      return (
        <RoomScreen title={t('room.endedTitle')} tone="end">
          <p>{by !== null ? t('room.endedBy', { name: by }) : t('room.endedText')}</p>
          <p className="actions">
            <BackToMeetings />
          </p>
        </RoomScreen>
      );
    case 'denied':
      return (
        <RoomScreen title={t('room.deniedTitle')} tone="end">
          <p>{t('room.deniedText')}</p>
          <p className="actions">
            <BackToMeetings />
          </p>
        </RoomScreen>
      );
    case 'left':
      return (
        <RoomScreen title={t('room.leftTitle')} tone="end">
          <p className="actions">
            {rejoin(t('room.rejoin'))}
            <BackToMeetings />
          </p>
        </RoomScreen>
      );
    case 'disconnected':
      return (
        <RoomScreen title={t('room.disconnectedTitle')} tone="warning">
          <p>{t('room.disconnectedText')}</p>
          <p className="actions">
            {rejoin(t('room.rejoin'))}
            <BackToMeetings />
          </p>
        </RoomScreen>
      );
  }
}
