/**
 * Who a person in the meeting is, as the identity service verified it: name, unit and the time
 * of their last second-factor check, or a GUEST mark for an external guest (whose email address
 * only was checked). Shown on every tile, roster entry and lobby entry, so a stranger can never
 * pass for a colleague by choosing a name.
 */
import { useI18n } from '../../i18n';

export interface VerifiedPerson {
  displayName: string;
  unit: string;
  email: string;
  guest: boolean;
}

export function GuestMark() {
  const { t } = useI18n();
  return (
    <span className="guest-mark" title={t('room.guestVerified')}>
      {t('room.guest')}
    </span>
  );
}

function VerifiedMark() {
  const { t } = useI18n();
  return (
    <span className="verified" title={t('nav.verified')}>
      <span aria-hidden="true">✔</span>
      <span className="visually-hidden"> ({t('nav.verified')})</span>
    </span>
  );
}

export function IdentityBadge({
  person,
  mfaAt,
  self = false,
}: {
  person: VerifiedPerson;
  /** The last second-factor check (agents in the meeting); undefined where it is not known. */
  mfaAt?: string | null;
  self?: boolean;
}) {
  const { t, formatTime } = useI18n();
  const where = person.guest ? person.email : person.unit === '' ? t('nav.noUnit') : person.unit;
  return (
    <span className={person.guest ? 'id-badge id-badge-guest' : 'id-badge'}>
      <span className="id-name">
        {person.guest ? <GuestMark /> : null}
        <span className="id-display-name">{person.displayName}</span>
        {person.guest ? null : <VerifiedMark />}
        {self ? <span className="id-self"> {t('room.you')}</span> : null}
      </span>
      <span className="id-meta">
        {where}
        {person.guest ? (
          <> · {t('room.guestVerified')}</>
        ) : mfaAt ? (
          <>
            {' · '}
            <time dateTime={mfaAt}>{t('room.mfaAt', { time: formatTime(mfaAt) })}</time>
          </>
        ) : null}
      </span>
    </span>
  );
}
