/**
 * One `MeetingClient` for the meeting a page shows: created when the page opens a link,
 * closed (socket, connections, camera, microphone) when it leaves it, read through
 * `useSyncExternalStore` so every render sees one consistent snapshot.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { api, confirmIdentity } from '../../api';
import { MeetingClient, type MeetingSnapshot } from '../../meeting/client';
import { meetingSocketUrl } from '../../meeting/connection';
import { navigate } from '../../router';

const idle = (): (() => void) => () => undefined;
const nothing = (): undefined => undefined;

export function useMeetingClient(linkId: string): {
  client: MeetingClient | undefined;
  snapshot: MeetingSnapshot | undefined;
  /** The link the client was opened with: it changes for another meeting, not for a replaced link. */
  opened: string;
} {
  const [opened, setOpened] = useState(linkId);
  const [client, setClient] = useState<MeetingClient>();
  const snapshot = useSyncExternalStore(client?.subscribe ?? idle, client?.getSnapshot ?? nothing);
  const current = snapshot?.linkId;

  // Another meeting's address: a new client. The address of this meeting's new link (after a
  // host replaced it, the client follows, and so does the address bar): the same client.
  if (linkId !== opened && linkId !== current) setOpened(linkId);

  useEffect(() => {
    const created = new MeetingClient(opened, {
      check: (id) => api.admissionCheck(id),
      confirmIdentity,
      socketUrl: (id) => meetingSocketUrl(id, window.location),
    });
    setClient(created);
    void created.check();
    return () => created.close();
  }, [opened]);

  useEffect(() => {
    // The old link is dead once replaced: a reload or a copied address must use the new one.
    if (current !== undefined && window.location.pathname !== `/m/${current}`)
      navigate(`/m/${current}`, { replace: true });
  }, [current]);

  return { client, snapshot, opened };
}
