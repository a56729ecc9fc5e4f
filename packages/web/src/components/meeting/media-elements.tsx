/** `<video>` and `<audio>` elements fed a MediaStreamTrack (through `srcObject`, never a URL). */
import { useEffect, useRef } from 'react';

export function VideoView({
  track,
  mirrored = false,
  fit = 'cover',
}: {
  track: MediaStreamTrack | null | undefined;
  /** One's own camera reads like a mirror. */
  mirrored?: boolean;
  /** A screen share is shown whole; a face may be cropped to fill the tile. */
  fit?: 'cover' | 'contain';
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = track ? new MediaStream([track]) : null;
    // Muted video may always play; a refusal (the element left the page) changes nothing.
    if (track) video.play().catch(() => undefined);
  }, [track]);
  const classes = ['video', `video-${fit}`, mirrored ? 'video-mirrored' : '', track ? '' : 'video-empty'];
  return (
    <video
      ref={ref}
      className={classes.filter((c) => c !== '').join(' ')}
      autoPlay
      playsInline
      muted
      aria-hidden="true"
    />
  );
}

/** Plays one participant's microphone. */
export function AudioSink({ track }: { track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    audio.play().catch(() => undefined);
    return () => {
      audio.srcObject = null;
    };
  }, [track]);
  return <audio ref={ref} autoPlay />;
}
