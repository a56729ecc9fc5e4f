/**
 * The console: providers, the route guard and the page for each route. What a session may see
 * follows its stage: none → sign-in, 'mfa' → the second step, 'enrol' → factor enrolment only,
 * 'full' → everything its role allows. The meeting room is the exception: it is open to anyone,
 * because its own admission check decides (and explains) who gets in; so is an application's
 * sign-in request, which signs the agent in on its own page.
 */
import { StrictMode } from 'react';
import { Layout } from './components/layout';
import { ErrorMessage, StatusMessage } from './components/messages';
import { Page } from './components/page';
import { StepUpProvider } from './components/step-up';
import { I18nContext, useI18n, useLanguageState } from './i18n';
import { AccountPage } from './pages/account.page';
import { AgentsPage } from './pages/agents.page';
import { AlertsPage } from './pages/alerts.page';
import { ApplicationsPage } from './pages/applications.page';
import { AuditPage } from './pages/audit.page';
import { EnrolLinkPage } from './pages/enrol-link.page';
import { EnrolPage } from './pages/enrol.page';
import { HomePage } from './pages/home.page';
import { LeakCheckPage } from './pages/leakcheck.page';
import { MeetingDetailPage } from './pages/meeting-detail.page';
import { MeetingRoomPage } from './pages/meeting-room.page';
import { MeetingsPage } from './pages/meetings.page';
import { NetguardPage } from './pages/netguard.page';
import { ForbiddenPage, NotFoundPage } from './pages/not-found.page';
import { OidcInteractionPage } from './pages/oidc-interaction.page';
import { SignInPage } from './pages/sign-in.page';
import { SpywareDevicePage } from './pages/spyware-device.page';
import { SpywareMyDevicesPage } from './pages/spyware-my-devices.page';
import { SpywarePage } from './pages/spyware.page';
import { WatchPage } from './pages/watch.page';
import { rememberReturnPath } from './return-path';
import { Redirect, matchRoute, usePath } from './router';
import { redirectFor, type Route } from './routes';
import { SessionProvider, useSession } from './session';

function Screen({ route }: { route: Route }) {
  const { state } = useSession();
  const admin = state?.authenticated === true && state.agent.role === 'admin';
  switch (route.name) {
    case 'sign-in':
      return <SignInPage />;
    case 'enrol-link':
      return <EnrolLinkPage key={route.token} token={route.token} />;
    case 'enrol':
      return <EnrolPage />;
    case 'home':
      return <HomePage />;
    case 'account':
      return <AccountPage />;
    case 'agents':
      return admin ? <AgentsPage /> : <ForbiddenPage />;
    case 'applications':
      return admin ? <ApplicationsPage /> : <ForbiddenPage />;
    case 'alerts':
      return admin ? <AlertsPage /> : <ForbiddenPage />;
    case 'audit':
      return admin ? <AuditPage /> : <ForbiddenPage />;
    case 'meetings':
      return <MeetingsPage />;
    case 'meeting':
      return <MeetingDetailPage key={route.id} id={route.id} />;
    case 'leakcheck':
      return <LeakCheckPage />;
    case 'netguard':
      // Keyed by section: each one is a page of its own, whose heading takes the focus.
      return admin ? <NetguardPage key={route.section} section={route.section} /> : <ForbiddenPage />;
    case 'spyware':
      return admin ? <SpywarePage key={route.section} section={route.section} /> : <ForbiddenPage />;
    case 'watch':
      return admin ? <WatchPage key={route.section} section={route.section} /> : <ForbiddenPage />;
    case 'spyware-device':
      // Open to the device's owner too: the server decides who may read it.
      return <SpywareDevicePage key={route.id} id={route.id} />;
    case 'my-devices':
      return <SpywareMyDevicesPage />;
    case 'meeting-room':
      // Not keyed by the link: after a host replaces it, the address follows and the page stays.
      return <MeetingRoomPage linkId={route.linkId} />;
    case 'oidc-interaction':
      return <OidcInteractionPage key={route.uid} uid={route.uid} />;
    case 'not-found':
      return <NotFoundPage />;
  }
}

function Routes() {
  const { t } = useI18n();
  const { state, loadError, refresh } = useSession();
  const path = usePath();
  const route = matchRoute(path);

  if (state === undefined) {
    return (
      <Page title={t('app.name')}>
        {loadError === undefined ? (
          <StatusMessage message={t('app.loading')} />
        ) : (
          <>
            <ErrorMessage error={loadError} />
            <button type="button" className="button" onClick={() => void refresh()}>
              {t('common.retry')}
            </button>
          </>
        )}
      </Page>
    );
  }

  const target = redirectFor(route, state);
  if (target !== undefined) {
    // Back there once signed in, or once the second factor is enrolled (an application's sign-in
    // request waits for both).
    if (target === '/sign-in' || target === '/enrol') rememberReturnPath(path);
    return <Redirect to={target} />;
  }
  return <Screen route={route} />;
}

export function App() {
  const i18n = useLanguageState();
  return (
    <StrictMode>
      <I18nContext value={i18n}>
        <SessionProvider>
          <StepUpProvider>
            <Layout>
              <Routes />
            </Layout>
          </StepUpProvider>
        </SessionProvider>
      </I18nContext>
    </StrictMode>
  );
}
