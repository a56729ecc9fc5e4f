import {
  DEFAULT_GROUP_ID,
  netguardCategoryIds,
  type Category,
  type CategoryId,
  type Group,
  type GroupInput,
  type NetguardList,
} from '@rempart/core';
import { useId, useState, type FormEvent, type Ref } from 'react';
import { useI18n } from '../../i18n';
import {
  blockModes,
  draftOf,
  newGroupDraft,
  readGroupDraft,
  type GroupDraft,
  type GroupProblems,
} from '../../netguard/group-form';
import { netguardPath } from '../../netguard/sections';
import { Link } from '../../router';
import { CheckboxField, TextField } from '../fields';
import { ErrorMessage } from '../messages';
import { RadioGroupField, TextAreaField, linesProblem, useFocusOnProblem } from './fields';
import { ServerDetail } from './server-detail';

function toggle<T>(values: readonly T[], value: T, on: boolean): T[] {
  return on ? [...values.filter((v) => v !== value), value] : values.filter((v) => v !== value);
}

/**
 * A group's form, to create one (with its id) or to change one. The default group takes every
 * client no other group claims, so it has no ranges to edit. Nothing is sent until the form
 * reads back into a valid `GroupInput`.
 */
export function GroupForm({
  group,
  groups,
  categories,
  lists,
  busy,
  error,
  headingRef,
  onSave,
  onCancel,
}: {
  /** The group changed; undefined to create one. */
  group: Group | undefined;
  groups: readonly Group[];
  categories: readonly Category[];
  lists: readonly NetguardList[];
  busy: boolean;
  error: unknown;
  headingRef?: Ref<HTMLHeadingElement>;
  onSave: (id: string, input: GroupInput) => void;
  onCancel: () => void;
}) {
  const { t, formatNumber } = useI18n();
  const prefix = useId();
  const creating = group === undefined;
  const isDefault = group?.id === DEFAULT_GROUP_ID;
  const [draft, setDraft] = useState<GroupDraft>(() => (group ? draftOf(group) : newGroupDraft));
  const [problems, setProblems] = useState<GroupProblems>({});
  const form = useFocusOnProblem(problems);
  const update = (change: Partial<GroupDraft>) => setDraft((previous) => ({ ...previous, ...change }));

  const categoryOrder: CategoryId[] = [...netguardCategoryIds];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const read = readGroupDraft(draft, {
      creating,
      takenIds: groups.map((g) => g.id),
      categoryOrder,
      listOrder: lists.map((list) => list.id),
    });
    if (!read.ok) {
      setProblems(read.problems);
      return;
    }
    setProblems({});
    onSave(read.id, read.input);
  };

  const cidrProblem =
    problems.cidrs === undefined
      ? undefined
      : problems.cidrs === 'defaultHasNone'
        ? t('netguard.groups.cidrsDefault')
        : problems.cidrs === 'tooMany'
          ? t('netguard.groups.cidrsTooMany')
          : linesProblem(t, t('netguard.groups.cidrsInvalid'), problems.cidrs.lines);

  const shipped = categoryOrder.map((id) => ({ id, category: categories.find((c) => c.id === id) }));

  return (
    <section
      className="card card-important"
      aria-labelledby={`${prefix}-heading`}
      data-testid="netguard-group-form"
    >
      <h2 id={`${prefix}-heading`} ref={headingRef} tabIndex={-1}>
        {group ? t('netguard.groups.editHeading', { name: group.name }) : t('netguard.groups.newHeading')}
      </h2>
      <form ref={form} className="form-grid" noValidate onSubmit={submit}>
        {creating ? (
          <TextField
            id={`${prefix}-id`}
            label={t('netguard.groups.id')}
            hint={t('netguard.groups.idHint')}
            problem={problems.id === undefined ? undefined : t(`netguard.groups.idProblem.${problems.id}`)}
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            required
            maxLength={63}
            value={draft.id}
            onChange={(event) => update({ id: event.target.value })}
          />
        ) : null}
        <TextField
          id={`${prefix}-name`}
          label={t('netguard.groups.name')}
          problem={
            problems.name === undefined ? undefined : t(`netguard.groups.nameProblem.${problems.name}`)
          }
          autoComplete="off"
          required
          maxLength={120}
          value={draft.name}
          onChange={(event) => update({ name: event.target.value })}
        />
        <TextAreaField
          id={`${prefix}-description`}
          className="form-grid-wide"
          label={t('netguard.groups.description')}
          problem={problems.description === undefined ? undefined : t('netguard.groups.descriptionTooLong')}
          rows={2}
          maxLength={1000}
          value={draft.description}
          onChange={(event) => update({ description: event.target.value })}
        />
        {isDefault ? (
          <p className="form-grid-wide message message-info">{t('netguard.groups.cidrsDefaultHint')}</p>
        ) : (
          <TextAreaField
            id={`${prefix}-cidrs`}
            className="form-grid-wide field-lines"
            label={t('netguard.groups.cidrs')}
            hint={t('netguard.groups.cidrsHint')}
            problem={cidrProblem}
            rows={5}
            value={draft.cidrs}
            onChange={(event) => update({ cidrs: event.target.value })}
          />
        )}

        <fieldset className="form-grid-wide">
          <legend>{t('netguard.groups.categories')}</legend>
          {shipped.map(({ id, category }) => (
            <CheckboxField
              key={id}
              id={`${prefix}-category-${id}`}
              label={
                category === undefined
                  ? t(`netguard.category.${id}`)
                  : t('netguard.groups.categoryLabel', {
                      name: t(`netguard.category.${id}`),
                      count: formatNumber(category.domains),
                    })
              }
              hint={t(`netguard.categoryHint.${id}`)}
              checked={draft.categories.includes(id)}
              onChange={(event) => update({ categories: toggle(draft.categories, id, event.target.checked) })}
            />
          ))}
        </fieldset>

        <fieldset className="form-grid-wide">
          <legend>{t('netguard.groups.lists')}</legend>
          {lists.length === 0 ? (
            <p className="muted">
              {t('netguard.groups.noLists')}{' '}
              <Link to={netguardPath('lists')}>{t('netguard.groups.toLists')}</Link>
            </p>
          ) : (
            lists.map((list) => (
              <CheckboxField
                key={list.id}
                id={`${prefix}-list-${list.id}`}
                label={list.name}
                hint={t(
                  list.action === 'allow' ? 'netguard.groups.allowListHint' : 'netguard.groups.blockListHint',
                  {
                    count: formatNumber(list.rules),
                  },
                )}
                checked={draft.lists.includes(list.id)}
                onChange={(event) => update({ lists: toggle(draft.lists, list.id, event.target.checked) })}
              />
            ))
          )}
        </fieldset>

        <RadioGroupField
          name={`${prefix}-mode`}
          className="form-grid-wide"
          legend={t('netguard.groups.blockMode')}
          options={blockModes.map((mode) => ({
            value: mode,
            label: t(`netguard.blockMode.${mode}`),
            hint: t(`netguard.blockModeHint.${mode}`),
          }))}
          value={draft.blockMode}
          onChange={(blockMode) => update({ blockMode })}
        />

        <fieldset className="form-grid-wide">
          <legend>{t('netguard.groups.options')}</legend>
          <CheckboxField
            id={`${prefix}-trusted`}
            label={t('netguard.groups.trusted')}
            hint={t('netguard.groups.trustedHint')}
            checked={draft.trusted}
            onChange={(event) => update({ trusted: event.target.checked })}
          />
          <CheckboxField
            id={`${prefix}-private`}
            label={t('netguard.groups.noPrivateApps')}
            hint={t('netguard.groups.noPrivateAppsHint')}
            checked={draft.noPrivateApps}
            onChange={(event) => update({ noPrivateApps: event.target.checked })}
          />
        </fieldset>

        <div className="form-grid-wide">
          <ErrorMessage error={error} />
          <ServerDetail error={error} />
          <div className="actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {creating ? t('netguard.groups.create') : t('netguard.groups.save')}
            </button>
            <button type="button" className="button button-quiet" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}
