/** The frame of every page: skip link, header with identity and language, navigation, footer. */
import type { ReactNode } from 'react';
import { useAction } from '../hooks';
import { isLanguage, languageNames, languages, useI18n } from '../i18n';
import { Link, matchRoute, navigate, usePath } from '../router';
import { useSession } from '../session';
import { ErrorMessage } from './messages';

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <path d="M4 6h4v4h4V6h8v4h4V6h4v22H4z" fill="currentColor" />
      <path d="M13 18h6v10h-6z" className="logo-gate" />
    </svg>
  );
}

export function LanguageSwitcher() {
  const { t, language, setLanguage } = useI18n();
  return (
    <div className="language">
      <label htmlFor="language-select">{t('app.language')}</label>
      <select
        id="language-select"
        value={language}
        onChange={(event) => {
          if (isLanguage(event.target.value)) setLanguage(event.target.value);
        }}
      >
        {languages.map((code) => (
          <option key={code} value={code} lang={code}>
            {languageNames[code]}
          </option>
        ))}
      </select>
    </div>
  );
}

function NavLink({ to, children }: { to: string; children: ReactNode }) {
  const path = usePath();
  const current = path === to || (to !== '/' && path.startsWith(`${to}/`));
  return (
    <li>
      <Link to={to} aria-current={current ? 'page' : undefined}>
        {children}
      </Link>
    </li>
  );
}

function SignOutButton() {
  const { t } = useI18n();
  const { signOut } = useSession();
  const action = useAction();
  return (
    <>
      <button
        type="button"
        className="button button-quiet"
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            await signOut();
            navigate('/sign-in');
          })
        }
      >
        {t('nav.signOut')}
      </button>
      <ErrorMessage error={action.error} />
    </>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { state } = useSession();
  const signedIn = state?.authenticated === true;
  const full = signedIn && state.stage === 'full';
  // A meeting takes the whole window: no navigation to leave it by mistake, no footer.
  const room = matchRoute(usePath()).name === 'meeting-room';

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <div className="brand">
            <Logo />
            <span className="brand-name">{t('app.name')}</span>
            <span className="brand-tagline">{t('app.tagline')}</span>
          </div>
          <div className="topbar-tools">
            {full ? (
              <div className="identity">
                <span className="visually-hidden">{t('nav.signedInAs')} </span>
                <span className="identity-name">
                  {state.agent.displayName}
                  <span className="verified" title={t('nav.verified')}>
                    <span aria-hidden="true">✔</span>
                    <span className="visually-hidden"> ({t('nav.verified')})</span>
                  </span>
                </span>
                <span className="identity-meta">
                  {state.agent.unit === '' ? t('nav.noUnit') : state.agent.unit} ·{' '}
                  {t(`role.${state.agent.role}`)}
                </span>
              </div>
            ) : null}
            <LanguageSwitcher />
            {signedIn && state.stage !== 'mfa' ? <SignOutButton /> : null}
          </div>
        </div>
        {full && !room ? (
          <nav className="mainnav" aria-label={t('app.mainNav')}>
            <ul>
              <NavLink to="/">{t('nav.home')}</NavLink>
              <NavLink to="/meetings">{t('nav.meetings')}</NavLink>
              <NavLink to="/leakcheck">{t('nav.leakcheck')}</NavLink>
              <NavLink to="/my-devices">{t('nav.myDevices')}</NavLink>
              <NavLink to="/account">{t('nav.account')}</NavLink>
              {state.agent.role === 'admin' ? (
                <>
                  <NavLink to="/admin/agents">{t('nav.agents')}</NavLink>
                  <NavLink to="/admin/applications">{t('nav.applications')}</NavLink>
                  <NavLink to="/alerts">{t('nav.alerts')}</NavLink>
                  <NavLink to="/audit">{t('nav.audit')}</NavLink>
                  <NavLink to="/netguard">{t('nav.netguard')}</NavLink>
                  <NavLink to="/spyware">{t('nav.spyware')}</NavLink>
                  <NavLink to="/watch">{t('nav.watch')}</NavLink>
                </>
              ) : null}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1} className={room ? 'main-room' : undefined}>
        {children}
      </main>
      {room ? null : (
        <footer className="footer">
          <p>{t('app.footer')}</p>
        </footer>
      )}
    </>
  );
}
