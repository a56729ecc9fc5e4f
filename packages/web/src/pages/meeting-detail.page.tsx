/** One meeting: its facts and link; for its hosts, rotating the link and ending it. */
import type { Meeting } from '@rempart/core';
import { useEffect, useState } from 'react';
import { api } from '../api';
import { ClassificationBadge } from '../components/badges';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyLink } from '../components/copy-link';
import { AgentNames, TimingBadge, isHostOf, useFormatWindow } from '../components/meeting/meeting-facts';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { meetingTiming } from '../meeting/schedule';
import { Link } from '../router';
import { useFullSession } from '../session';

type Pending = 'rotate' | 'end' | undefined;

/** The meeting just scheduled, so that its page greets the host with the link to share. */
let justCreated: string | undefined;

export function rememberCreated(meeting: Pick<Meeting, 'id'>): void {
  justCreated = meeting.id;
}

export function MeetingDetailPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const { agent } = useFullSession();
  const loaded = useLoad(() => api.meeting(id), [id]);
  const acting = useAction();
  const [pending, setPending] = useState<Pending>();
  const [status, setStatus] = useState<string>();
  const [created] = useState(() => justCreated === id);

  useEffect(() => {
    if (justCreated === id) justCreated = undefined;
  }, [id]);

  const meeting = loaded.data?.meeting;
  if (!meeting) {
    return (
      <Page title={t('meetings.detailTitle')}>
        <ErrorMessage error={loaded.error} />
        <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
        <p>
          <Link to="/meetings">{t('meetings.back')}</Link>
        </p>
      </Page>
    );
  }

  const host = isHostOf(meeting, agent.id);
  const timing = meetingTiming(meeting, Date.now());

  const act = async (kind: 'rotate' | 'end') => {
    setStatus(undefined);
    const result = await acting.run(() =>
      kind === 'rotate' ? api.rotateMeetingLink(meeting.id) : api.endMeeting(meeting.id),
    );
    setPending(undefined);
    if (!result.ok) return;
    loaded.setData(() => ({ meeting: result.value.meeting }));
    setStatus(t(kind === 'rotate' ? 'meetings.rotated' : 'meetings.endedDone'));
  };

  return (
    <Page title={meeting.title} wide>
      <p>
        <Link to="/meetings">{t('meetings.back')}</Link>
      </p>
      <StatusMessage tone="success" message={status} />
      <ErrorMessage error={acting.error} />
      <div className="grid-2">
        <section className="card" aria-labelledby="meeting-facts">
          <h2 id="meeting-facts">{t('meetings.facts')}</h2>
          <MeetingFacts meeting={meeting} />
        </section>
        <section className="card" aria-labelledby="meeting-link">
          <h2 id="meeting-link">{t('meetings.link')}</h2>
          {timing === 'ended' ? (
            <p>{t('meetings.endedAt', { date: formatDateTime(meeting.endedAt ?? meeting.endsAt) })}</p>
          ) : (
            <>
              {created ? (
                <div className="message message-success" data-testid="meeting-created">
                  <p>
                    <strong>{t('meetings.created', { title: meeting.title })}</strong>
                  </p>
                  <p>{t('meetings.createdIntro')}</p>
                </div>
              ) : null}
              <p className="muted">{t('meetings.linkIntro')}</p>
              <CopyLink url={meeting.url} testId="meeting-url" />
              <p className="actions">
                <Link to={`/m/${meeting.linkId}`} className="button button-primary">
                  {t('meetings.open')}
                </Link>
              </p>
            </>
          )}
          {host && timing !== 'ended' ? (
            <section aria-labelledby="meeting-host-actions" className="host-actions">
              <h3 id="meeting-host-actions">{t('meetings.hostActions')}</h3>
              <div className="actions">
                <button
                  type="button"
                  className="button"
                  data-testid="rotate-link"
                  disabled={acting.busy}
                  onClick={() => setPending('rotate')}
                >
                  {t('meetings.rotate')}
                </button>
                <button
                  type="button"
                  className="button button-danger"
                  data-testid="end-meeting"
                  disabled={acting.busy}
                  onClick={() => setPending('end')}
                >
                  {t('meetings.end')}
                </button>
              </div>
            </section>
          ) : null}
        </section>
      </div>

      {pending === 'rotate' ? (
        <ConfirmDialog
          title={t('meetings.rotateConfirmTitle')}
          confirmLabel={t('meetings.rotate')}
          busy={acting.busy}
          onConfirm={() => void act('rotate')}
          onCancel={() => setPending(undefined)}
        >
          <p>{t('meetings.rotateConfirm')}</p>
        </ConfirmDialog>
      ) : null}
      {pending === 'end' ? (
        <ConfirmDialog
          title={t('meetings.endConfirmTitle')}
          confirmLabel={t('meetings.end')}
          danger
          busy={acting.busy}
          onConfirm={() => void act('end')}
          onCancel={() => setPending(undefined)}
        >
          <p>{t('meetings.endConfirm')}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

function MeetingFacts({ meeting }: { meeting: Meeting }) {
  const { t } = useI18n();
  const formatWindow = useFormatWindow();
  const onOff = (on: boolean) => t(on ? 'meetings.on' : 'meetings.off');
  return (
    <dl className="facts">
      <dt>{t('meetings.state')}</dt>
      <dd>
        <TimingBadge timing={meetingTiming(meeting, Date.now())} />
        {meeting.locked ? <span className="badge badge-locked">{t('meeting.locked')}</span> : null}
      </dd>
      <dt>{t('meetings.classification')}</dt>
      <dd>
        <ClassificationBadge classification={meeting.classification} />
      </dd>
      <dt>{t('meetings.when')}</dt>
      <dd>{formatWindow(meeting.startsAt, meeting.endsAt)}</dd>
      <dt>{t('meetings.hosts')}</dt>
      <dd>
        <AgentNames agents={meeting.hosts} />
      </dd>
      <dt>{t('meetings.invitedAgents')}</dt>
      <dd>
        <AgentNames agents={meeting.invitees.agents} />
      </dd>
      <dt>{t('meetings.invitedUnits')}</dt>
      <dd>{meeting.invitees.units.length === 0 ? t('common.none') : meeting.invitees.units.join(', ')}</dd>
      <dt>{t('schedule.lobby')}</dt>
      <dd>{onOff(meeting.options.lobby)}</dd>
      <dt>{t('schedule.guests')}</dt>
      <dd>{onOff(meeting.options.guests)}</dd>
    </dl>
  );
}
