/** The overview: who is signed in, how freshly verified, and where to go next. */
import { api } from '../api';
import { AgentFacts } from '../components/agent-facts';
import { Page } from '../components/page';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useFullSession } from '../session';

function OpenAlerts() {
  const { t, formatNumber } = useI18n();
  const alerts = useLoad(() => api.alerts('open'), []);
  if (!alerts.data) return null;
  return (
    <span className="shortcut-note">
      {t('home.openAlerts', { count: formatNumber(alerts.data.alerts.length) })}
    </span>
  );
}

export function HomePage() {
  const { t, formatDateTime } = useI18n();
  const session = useFullSession();
  const { agent } = session;
  const admin = agent.role === 'admin';

  return (
    <Page title={t('home.title')} heading={t('home.welcome', { name: agent.displayName })}>
      <div className="grid-2">
        <section className="card" aria-labelledby="home-identity">
          <h2 id="home-identity">{t('home.identity')}</h2>
          <AgentFacts agent={agent}>
            <dt>{t('home.mfaAt')}</dt>
            <dd>
              {session.mfaAt === null ? (
                t('home.never')
              ) : (
                <time dateTime={session.mfaAt}>{formatDateTime(session.mfaAt)}</time>
              )}
            </dd>
            <dt>{t('home.expires')}</dt>
            <dd>
              <time dateTime={session.expiresAt}>{formatDateTime(session.expiresAt)}</time>
            </dd>
          </AgentFacts>
        </section>
        <section className="card" aria-labelledby="home-shortcuts">
          <h2 id="home-shortcuts">{t('home.shortcuts')}</h2>
          <ul className="shortcuts">
            <li>
              <Link to="/meetings">{t('nav.meetings')}</Link>
              <span>{t('home.meetingsLink')}</span>
            </li>
            <li>
              <Link to="/leakcheck">{t('nav.leakcheck')}</Link>
              <span>{t('home.leakcheckLink')}</span>
            </li>
            <li>
              <Link to="/account">{t('nav.account')}</Link>
              <span>{t('home.accountLink')}</span>
            </li>
            {admin ? (
              <>
                <li>
                  <Link to="/admin/agents">{t('nav.agents')}</Link>
                  <span>{t('home.agentsLink')}</span>
                </li>
                <li>
                  <Link to="/admin/applications">{t('nav.applications')}</Link>
                  <span>{t('home.applicationsLink')}</span>
                </li>
                <li>
                  <Link to="/alerts">{t('nav.alerts')}</Link>
                  <span>{t('home.alertsLink')}</span>
                  <OpenAlerts />
                </li>
                <li>
                  <Link to="/audit">{t('nav.audit')}</Link>
                  <span>{t('home.auditLink')}</span>
                </li>
              </>
            ) : null}
          </ul>
        </section>
      </div>
    </Page>
  );
}
