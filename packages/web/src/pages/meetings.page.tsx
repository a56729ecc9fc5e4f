/** My meetings: going on now, to come, ended; and, for hosts and administrators, scheduling one. */
import type { Meeting } from '@rempart/core';
import { api } from '../api';
import { ClassificationBadge } from '../components/badges';
import { AgentNames, useFormatWindow } from '../components/meeting/meeting-facts';
import { ScheduleForm } from '../components/meeting/schedule-form';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { groupByTiming, type MeetingTiming } from '../meeting/schedule';
import { Link, navigate } from '../router';
import { rememberCreated } from './meeting-detail.page';
import { useFullSession } from '../session';

const sections: readonly MeetingTiming[] = ['ongoing', 'upcoming', 'ended'];

export function MeetingsPage() {
  const { t } = useI18n();
  const { agent } = useFullSession();
  const meetings = useLoad(() => api.meetings(), []);
  const canSchedule = agent.role === 'host' || agent.role === 'admin';
  const now = Date.now();

  const groups = meetings.data ? groupByTiming(meetings.data.meetings, now) : undefined;

  return (
    <Page title={t('meetings.title')} lead={t('meetings.lead')} wide>
      {canSchedule ? (
        <section className="card" aria-labelledby="meetings-schedule">
          <h2 id="meetings-schedule">{t('meetings.schedule')}</h2>
          <p className="muted">{t('meetings.scheduleIntro')}</p>
          <ScheduleForm
            onCreated={(meeting) => {
              // Its page shows the link to share, and the host's actions on it.
              rememberCreated(meeting);
              navigate(`/meetings/${meeting.id}`);
            }}
          />
        </section>
      ) : null}

      <ErrorMessage error={meetings.error} />
      {groups ? (
        sections.map((timing) => <MeetingTable key={timing} timing={timing} meetings={groups[timing]} />)
      ) : (
        <StatusMessage message={meetings.loading ? t('app.loading') : undefined} />
      )}
    </Page>
  );
}

function MeetingTable({ timing, meetings }: { timing: MeetingTiming; meetings: readonly Meeting[] }) {
  const { t } = useI18n();
  const formatWindow = useFormatWindow();
  const headingId = `meetings-${timing}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {t(`meetings.section.${timing}`)} <span className="count">({meetings.length})</span>
      </h2>
      {meetings.length === 0 ? (
        <p className="muted">{t(`meetings.empty.${timing}`)}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('meetings.meeting')}</th>
                <th scope="col">{t('meetings.classification')}</th>
                <th scope="col">{t('meetings.when')}</th>
                <th scope="col">{t('meetings.hosts')}</th>
                <th scope="col">{t('agents.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {meetings.map((meeting) => (
                <tr key={meeting.id} data-testid={`meeting-row-${meeting.id}`}>
                  <th scope="row" className="cell-title">
                    <Link to={`/meetings/${meeting.id}`}>{meeting.title}</Link>
                    {meeting.locked ? (
                      <span className="badge badge-locked">{t('meeting.locked')}</span>
                    ) : null}
                  </th>
                  <td>
                    <ClassificationBadge classification={meeting.classification} />
                  </td>
                  <td>
                    <time dateTime={meeting.startsAt}>{formatWindow(meeting.startsAt, meeting.endsAt)}</time>
                  </td>
                  <td>
                    <AgentNames agents={meeting.hosts} />
                  </td>
                  <td className="cell-actions">
                    {timing === 'ended' ? (
                      <Link to={`/meetings/${meeting.id}`}>{t('meetings.details')}</Link>
                    ) : (
                      <Link to={`/m/${meeting.linkId}`} className="button button-small button-primary">
                        {t('meetings.join')}
                        <span className="visually-hidden"> {meeting.title}</span>
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
