import { useI18n } from '../i18n';

/**
 * Recovery codes, shown once: a list, a download as plain text, and an explicit confirmation
 * that they were stored before the console moves on.
 */
export function RecoveryCodes({
  codes,
  email,
  onStored,
}: {
  codes: readonly string[];
  email: string;
  onStored: () => void;
}) {
  const { t, formatDateTime } = useI18n();

  const download = () => {
    const text = [
      t('recovery.fileTitle', { email }),
      t('recovery.fileNote', { date: formatDateTime(new Date().toISOString()) }),
      '',
      ...codes,
      '',
    ].join('\r\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'rempart-recovery-codes.txt';
    document.body.append(link);
    link.click();
    link.remove();
    // The download has started once click() returns; the object URL is only needed until then.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <section className="card card-important" aria-labelledby="recovery-heading">
      <h2 id="recovery-heading">{t('recovery.heading')}</h2>
      <p>{t('recovery.intro')}</p>
      <ol className="recovery-codes" data-testid="recovery-codes" aria-label={t('recovery.listLabel')}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" className="button" onClick={download}>
          {t('recovery.download')}
        </button>
        <button type="button" className="button button-primary" onClick={onStored}>
          {t('recovery.stored')}
        </button>
      </div>
    </section>
  );
}
