/**
 * The meeting room at `/m/<linkId>`, open to anyone: the server's admission check decides who
 * gets in and the page says what it decided. Signed out, it offers sign-in (and back here
 * afterwards) or, where the hosts allow guests, the way in for an external guest.
 *
 * `data-testid="meeting-state"` holds the phase as one word (`stateLabel`), and `data-reason`
 * the refusal reason: a stable hook for browser tests and tools, hidden from readers.
 */
import { useEffect, useState } from 'react';
import {
  CheckingScreen,
  EndScreen,
  LobbyScreen,
  PrejoinScreen,
  RefusedScreen,
  SignedOutScreen,
  StepUpScreen,
} from '../components/meeting/room-screens';
import { JoinedRoom } from '../components/meeting/joined-room';
import { useMeetingClient } from '../components/meeting/use-meeting-client';
import { useI18n } from '../i18n';
import type { MeetingClient, MeetingSnapshot } from '../meeting/client';
import { stateLabel, type MeetingPhase } from '../meeting/state';

export function MeetingRoomPage({ linkId }: { linkId: string }) {
  const { t } = useI18n();
  const { client, snapshot, opened } = useMeetingClient(linkId);
  const phase: MeetingPhase = snapshot?.state.phase ?? 'checking';
  const reason = snapshot?.state.reason ?? null;
  const title = snapshot?.state.meeting?.title ?? snapshot?.state.preview?.title;

  useEffect(() => {
    document.title = `${title ?? t('room.title')} — ${t('app.name')}`;
  }, [title, t]);

  return (
    <div className={phase === 'joined' ? 'room room-in' : 'room'}>
      <span
        className="visually-hidden"
        aria-hidden="true"
        data-testid="meeting-state"
        data-reason={reason ?? undefined}
      >
        {stateLabel(phase)}
      </span>
      {client && snapshot ? (
        <RoomBody key={opened} linkId={snapshot.linkId} client={client} snapshot={snapshot} />
      ) : (
        <CheckingScreen snapshot={undefined} onRetry={() => undefined} />
      )}
    </div>
  );
}

function RoomBody({
  linkId,
  client,
  snapshot,
}: {
  linkId: string;
  client: MeetingClient;
  snapshot: MeetingSnapshot;
}) {
  const { phase } = snapshot.state;
  // Join was asked for (the button, or a guest's verified code) and waits for the devices.
  const [joining, setJoining] = useState(false);
  const devicesReady = !snapshot.local.starting;

  useEffect(() => {
    if (!joining) return;
    if (phase === 'prejoin' && devicesReady) {
      setJoining(false);
      client.join();
    } else if (phase !== 'prejoin' && phase !== 'checking' && phase !== 'signed-out') {
      setJoining(false);
    }
  }, [joining, phase, devicesReady, client]);

  const retry = () => void client.check();

  switch (phase) {
    case 'reconnecting':
      // Still in the meeting while its connection comes back: the room stays, saying so.
      if (snapshot.state.self) return <JoinedRoom client={client} snapshot={snapshot} />;
      return <CheckingScreen snapshot={snapshot} onRetry={retry} />;
    case 'checking':
    case 'connecting':
      return <CheckingScreen snapshot={snapshot} onRetry={retry} />;
    case 'signed-out':
      return (
        <SignedOutScreen
          linkId={linkId}
          snapshot={snapshot}
          onGuestVerified={() => {
            // The code was the guest's request to join: on to the lobby once the check agrees.
            setJoining(true);
            retry();
          }}
        />
      );
    case 'refused':
      return <RefusedScreen linkId={linkId} snapshot={snapshot} onRetry={retry} />;
    case 'step-up':
      return <StepUpScreen client={client} snapshot={snapshot} />;
    case 'prejoin':
      return (
        <PrejoinScreen
          client={client}
          snapshot={snapshot}
          joining={joining}
          onJoin={() => setJoining(true)}
        />
      );
    case 'lobby':
      return <LobbyScreen client={client} snapshot={snapshot} />;
    case 'joined':
      return <JoinedRoom client={client} snapshot={snapshot} />;
    case 'removed':
    case 'ended':
    case 'denied':
    case 'left':
    case 'disconnected':
      return <EndScreen phase={phase} client={client} snapshot={snapshot} />;
  }
}
