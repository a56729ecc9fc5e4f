/**
 * "Test a name": the verdict the resolver would give a client asking for a name, explained
 * (the client's group and why, the deciding rule, every matching rule). Nothing is resolved.
 */
import type { DnsVerdict } from '@rempart/core';
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { TextField } from '../components/fields';
import { ErrorMessage } from '../components/messages';
import { useFocusOnProblem } from '../components/netguard/fields';
import { NetguardFrame } from '../components/netguard/netguard-frame';
import { VerdictView } from '../components/netguard/verdict-view';
import { useAction } from '../hooks';
import { useI18n } from '../i18n';
import { readTestQuery, type TestQueryResult } from '../netguard/verdict';

type Problems = Extract<TestQueryResult, { ok: false }>['problems'];

export function NetguardTestPage() {
  const { t } = useI18n();
  const [domain, setDomain] = useState('');
  const [client, setClient] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const form = useFocusOnProblem(problems);
  const [verdict, setVerdict] = useState<DnsVerdict>();
  const testing = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const read = readTestQuery(domain, client);
    if (!read.ok) {
      setProblems(read.problems);
      return;
    }
    setProblems({});
    const result = await testing.run(() => api.netguard.test(read.query));
    setVerdict(result.ok ? result.value : undefined);
  };

  return (
    <NetguardFrame section="test">
      <section className="card" aria-labelledby="netguard-test-form">
        <h2 id="netguard-test-form">{t('netguard.test.heading')}</h2>
        <form ref={form} className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
          <TextField
            id="netguard-test-domain"
            label={t('netguard.test.domain')}
            hint={t('netguard.test.domainHint')}
            problem={
              problems.domain === undefined ? undefined : t(`netguard.test.domainProblem.${problems.domain}`)
            }
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            required
            maxLength={2048}
            value={domain}
            onChange={(event) => setDomain(event.target.value)}
          />
          <TextField
            id="netguard-test-client"
            label={t('netguard.test.client')}
            hint={t('netguard.test.clientHint')}
            problem={problems.client === undefined ? undefined : t('netguard.test.clientProblem')}
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            inputMode="text"
            maxLength={64}
            placeholder="127.0.0.1"
            value={client}
            onChange={(event) => setClient(event.target.value)}
          />
          <div className="form-grid-wide">
            <ErrorMessage error={testing.error} />
            <button type="submit" className="button button-primary" disabled={testing.busy}>
              {t('netguard.test.submit')}
            </button>
          </div>
        </form>
      </section>
      <VerdictView verdict={verdict} />
    </NetguardFrame>
  );
}
