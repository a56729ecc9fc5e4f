import { Fragment } from 'react';
import { useI18n, type MessageKey } from '../../i18n';

/** The search language in a few lines, each with an example to copy. */
const terms: readonly { example: string; meaning: MessageKey }[] = [
  { example: '"password mismatch"', meaning: 'watch.help.words' },
  { example: 'user:alice', meaning: 'watch.help.field' },
  { example: 'src_ip:203.0.113.0/24', meaning: 'watch.help.address' },
  { example: 'action:login outcome:failure', meaning: 'watch.help.all' },
  { example: 'user:adm*', meaning: 'watch.help.wildcard' },
  { example: '-outcome:success', meaning: 'watch.help.not' },
  { example: 'format:dovecot source:syslog-udp', meaning: 'watch.help.format' },
  { example: 'parsed:false', meaning: 'watch.help.unparsed' },
];

export function SearchHelp({ id }: { id: string }) {
  const { t } = useI18n();
  return (
    <details className="watch-help" id={id}>
      <summary>{t('watch.help.title')}</summary>
      <dl className="facts">
        {terms.map((term) => (
          <Fragment key={term.example}>
            <dt>
              <code>{term.example}</code>
            </dt>
            <dd>{t(term.meaning)}</dd>
          </Fragment>
        ))}
      </dl>
    </details>
  );
}
