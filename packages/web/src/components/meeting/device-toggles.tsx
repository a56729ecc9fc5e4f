/** One's own microphone and camera: the two toggles shared by the pre-join, lobby and meeting views. */
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import type { MeetingClient } from '../../meeting/client';
import type { DeviceProblem, LocalSnapshot } from '../../meeting/devices';
import { Icon, type IconName } from './icons';
import { VideoView } from './media-elements';

/** A button that is on or off (WAI-ARIA toggle button: `aria-pressed`, a name that does not change). */
export function ControlButton({
  icon,
  label,
  pressed,
  danger = false,
  testId,
  onClick,
  disabled,
  controls,
  expanded,
}: {
  icon: IconName;
  label: ReactNode;
  pressed?: boolean;
  /** Styled as a warning when off (a muted microphone) rather than as a plain choice. */
  danger?: boolean;
  testId: string;
  onClick: () => void;
  disabled?: boolean;
  /** For a button that shows or hides a panel: the panel's id. */
  controls?: string;
  expanded?: boolean;
}) {
  const classes = [
    'control',
    pressed === true ? 'control-on' : '',
    pressed === false && danger ? 'control-off' : '',
  ];
  return (
    <button
      type="button"
      className={classes.filter((c) => c !== '').join(' ')}
      data-testid={testId}
      aria-pressed={pressed}
      aria-controls={controls}
      aria-expanded={expanded}
      disabled={disabled}
      onClick={onClick}
    >
      <Icon name={icon} />
      <span className="control-label">{label}</span>
    </button>
  );
}

export function DeviceToggles({ client, local }: { client: MeetingClient; local: LocalSnapshot }) {
  const { t } = useI18n();
  return (
    <>
      <ControlButton
        icon={local.micOn ? 'mic' : 'micOff'}
        label={t('room.microphone')}
        pressed={local.micOn}
        danger
        testId="toggle-microphone"
        onClick={() => void client.toggleMicrophone()}
      />
      <ControlButton
        icon={local.cameraOn ? 'camera' : 'cameraOff'}
        label={t('room.camera')}
        pressed={local.cameraOn}
        danger
        testId="toggle-camera"
        onClick={() => void client.toggleCamera()}
      />
    </>
  );
}

/** Why the camera or microphone is not available, in plain words; nothing when all is well. */
export function DeviceProblemMessage({ problem }: { problem: DeviceProblem | null }) {
  const { t } = useI18n();
  return (
    <div role="status" aria-live="polite" className={problem ? 'message message-info' : 'message-empty'}>
      {problem ? t(`room.device.${problem}`) : null}
    </div>
  );
}

/** The local camera as others will see it (mirrored, as one expects of oneself), before and while waiting. */
export function SelfPreview({ client, local }: { client: MeetingClient; local: LocalSnapshot }) {
  const { t } = useI18n();
  const showVideo = local.cameraOn && local.camera !== null;
  return (
    <div className="self-preview">
      <div className="preview-video">
        {showVideo ? (
          <VideoView track={local.camera} mirrored />
        ) : (
          <p className="preview-off">{t(local.starting ? 'room.devicesStarting' : 'room.cameraOff')}</p>
        )}
        <span className="visually-hidden">{t('room.preview')}</span>
      </div>
      <div className="preview-controls" role="group" aria-label={t('room.yourDevices')}>
        <DeviceToggles client={client} local={local} />
      </div>
      <DeviceProblemMessage problem={local.problem} />
    </div>
  );
}
