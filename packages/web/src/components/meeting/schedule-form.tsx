/** Scheduling a meeting (hosts and administrators): what, how sensitive, when, who, and how to get in. */
import {
  classifications,
  e2eeRequired,
  type AgentRef,
  type Classification,
  type Meeting,
} from '@rempart/core';
import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api';
import { useAction } from '../../hooks';
import { useI18n } from '../../i18n';
import { defaultWindow, isoFromLocalInput, windowProblem } from '../../meeting/schedule';
import { useFullSession } from '../../session';
import { CheckboxField, SelectField, TextField } from '../fields';
import { ErrorMessage } from '../messages';
import { AgentPicker, UnitPicker } from './agent-picker';

/** External guests are for public and internal meetings only. */
export const guestsAllowed = (classification: Classification): boolean =>
  classification === 'public' || classification === 'internal';

interface Draft {
  title: string;
  classification: Classification;
  start: string;
  end: string;
  cohosts: AgentRef[];
  invitees: AgentRef[];
  units: string[];
  lobby: boolean;
  guests: boolean;
  e2ee: boolean;
}

function emptyDraft(): Draft {
  const { start, end } = defaultWindow(new Date());
  return {
    title: '',
    classification: 'internal',
    start,
    end,
    cohosts: [],
    invitees: [],
    units: [],
    lobby: true,
    guests: false,
    e2ee: true,
  };
}

export function ScheduleForm({ onCreated }: { onCreated: (meeting: Meeting) => void }) {
  const { t } = useI18n();
  const { agent: me } = useFullSession();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [problem, setProblem] = useState<string>();
  const creating = useAction();

  const startsAt = isoFromLocalInput(draft.start);
  const endsAt = isoFromLocalInput(draft.end);
  const update = (patch: Partial<Draft>) => {
    setProblem(undefined);
    setDraft((previous) => ({ ...previous, ...patch }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const windowIssue = windowProblem(startsAt, endsAt, Date.now());
    if (windowIssue !== undefined || startsAt === undefined || endsAt === undefined) {
      setProblem(t(`schedule.window.${windowIssue ?? 'invalid'}`));
      return;
    }
    const result = await creating.run(() =>
      api.createMeeting({
        title: draft.title.trim(),
        classification: draft.classification,
        startsAt,
        endsAt,
        cohosts: draft.cohosts.map((a) => a.email),
        invitees: { emails: draft.invitees.map((a) => a.email), units: draft.units },
        options: {
          lobby: draft.lobby,
          guests: draft.guests && guestsAllowed(draft.classification),
          e2ee: draft.e2ee || e2eeRequired(draft.classification),
        },
      }),
    );
    if (!result.ok) return;
    setDraft(emptyDraft());
    onCreated(result.value.meeting);
  };

  const cohostIds = new Set([me.id, ...draft.cohosts.map((a) => a.id)]);
  const inviteeIds = new Set([me.id, ...draft.invitees.map((a) => a.id)]);
  const guestsPossible = guestsAllowed(draft.classification);
  const e2eeForced = e2eeRequired(draft.classification);

  return (
    <form className="form-grid" onSubmit={(event) => void submit(event)}>
      <TextField
        id="schedule-title"
        className="form-grid-wide"
        label={t('schedule.title')}
        required
        maxLength={200}
        autoComplete="off"
        value={draft.title}
        onChange={(event) => update({ title: event.target.value })}
      />
      <SelectField
        id="schedule-classification"
        label={t('schedule.classification')}
        hint={t('schedule.classificationHint')}
        value={draft.classification}
        onChange={(event) => {
          const classification = classifications.find((c) => c === event.target.value);
          // Guests cannot join restricted or secret meetings: the option goes off with them.
          if (classification)
            update({ classification, guests: guestsAllowed(classification) ? draft.guests : false });
        }}
      >
        {classifications.map((level) => (
          <option key={level} value={level}>
            {t(`clearance.${level}`)}
          </option>
        ))}
      </SelectField>
      <TextField
        id="schedule-start"
        label={t('schedule.start')}
        type="datetime-local"
        required
        value={draft.start}
        onChange={(event) => update({ start: event.target.value })}
      />
      <TextField
        id="schedule-end"
        label={t('schedule.end')}
        type="datetime-local"
        required
        min={draft.start}
        value={draft.end}
        problem={problem}
        onChange={(event) => update({ end: event.target.value })}
      />
      <div className="form-grid-wide grid-2">
        <AgentPicker
          legend={t('schedule.cohosts')}
          searchLabel={t('schedule.findCohost')}
          selected={draft.cohosts}
          exclude={inviteeIds}
          onChange={(cohosts) => update({ cohosts })}
        />
        <AgentPicker
          legend={t('schedule.invitees')}
          searchLabel={t('schedule.findInvitee')}
          selected={draft.invitees}
          exclude={cohostIds}
          onChange={(invitees) => update({ invitees })}
        />
      </div>
      <div className="form-grid-wide">
        <UnitPicker
          legend={t('schedule.units')}
          selected={draft.units}
          onChange={(units) => update({ units })}
        />
      </div>
      <fieldset className="form-grid-wide options">
        <legend>{t('schedule.options')}</legend>
        <CheckboxField
          id="schedule-lobby"
          label={t('schedule.lobby')}
          hint={t('schedule.lobbyHint')}
          checked={draft.lobby}
          onChange={(event) => update({ lobby: event.target.checked })}
        />
        <CheckboxField
          id="schedule-guests"
          label={t('schedule.guests')}
          hint={guestsPossible ? t('schedule.guestsHint') : t('schedule.guestsUnavailable')}
          checked={draft.guests && guestsPossible}
          disabled={!guestsPossible}
          onChange={(event) => update({ guests: event.target.checked })}
        />
        <CheckboxField
          id="schedule-e2ee"
          label={t('schedule.e2ee')}
          hint={e2eeForced ? t('schedule.e2eeForced') : t('schedule.e2eeHint')}
          checked={draft.e2ee || e2eeForced}
          disabled={e2eeForced}
          onChange={(event) => update({ e2ee: event.target.checked })}
        />
      </fieldset>
      <div className="form-grid-wide">
        <ErrorMessage error={creating.error} />
        {creating.error instanceof ApiError && creating.error.code === 'validation_failed' ? (
          // The server names what it refused (an unknown invitee, a host without clearance…).
          <p className="field-hint server-detail">{creating.error.message}</p>
        ) : null}
        <button
          type="submit"
          className="button button-primary"
          data-testid="schedule-submit"
          disabled={creating.busy}
        >
          {t('schedule.submit')}
        </button>
      </div>
    </form>
  );
}
