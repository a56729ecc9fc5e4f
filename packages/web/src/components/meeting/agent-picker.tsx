/**
 * Choosing agents from the directory: a search field, the matching agents as buttons, the
 * chosen ones as a list with a remove button each. Plain buttons rather than a combobox: every
 * step works with the keyboard and a screen reader without any custom key handling.
 */
import type { AgentRef } from '@rempart/core';
import { useEffect, useId, useState } from 'react';
import { api } from '../../api';
import { useI18n } from '../../i18n';
import { TextField } from '../fields';
import { ErrorMessage } from '../messages';

const SEARCH_DELAY_MS = 250;
const MIN_QUERY = 2;

export function AgentPicker({
  legend,
  searchLabel,
  selected,
  exclude,
  onChange,
}: {
  legend: string;
  searchLabel: string;
  selected: readonly AgentRef[];
  /** Agents not to offer (oneself, those already chosen elsewhere in the form). */
  exclude: ReadonlySet<string>;
  onChange: (agents: AgentRef[]) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<AgentRef[] | undefined>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    const q = query.trim();
    if (q.length < MIN_QUERY) {
      setResults(undefined);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api.directoryAgents(q).then(
        (answer) => {
          if (!current) return;
          setResults(answer.agents);
          setError(undefined);
        },
        (failure: unknown) => {
          if (current) setError(failure);
        },
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);

  const chosen = new Set(selected.map((a) => a.id));
  const offered = results?.filter((a) => !chosen.has(a.id) && !exclude.has(a.id));

  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      {selected.length === 0 ? (
        <p className="muted picker-none">{t('picker.none')}</p>
      ) : (
        <ul className="chips" aria-label={t('picker.chosen', { what: legend })}>
          {selected.map((agent) => (
            <li key={agent.id} className="chip">
              <span>
                {agent.displayName}
                <span className="muted"> · {agent.unit === '' ? agent.email : agent.unit}</span>
              </span>
              <button
                type="button"
                className="chip-remove"
                aria-label={t('picker.remove', { name: agent.displayName })}
                onClick={() => onChange(selected.filter((a) => a.id !== agent.id))}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <TextField
        id={`${id}-search`}
        label={searchLabel}
        hint={t('picker.hint')}
        type="search"
        autoComplete="off"
        spellCheck={false}
        maxLength={120}
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          // Enter in a search field would submit the whole form.
          if (event.key === 'Enter') event.preventDefault();
        }}
      />
      <ErrorMessage error={error} />
      <p role="status" aria-live="polite" className="visually-hidden">
        {offered === undefined ? '' : t('picker.found', { count: offered.length })}
      </p>
      {offered && offered.length > 0 ? (
        <ul className="picker-results">
          {offered.map((agent) => (
            <li key={agent.id}>
              <button
                type="button"
                className="button button-small"
                onClick={() => {
                  onChange([...selected, agent]);
                  setQuery('');
                }}
              >
                {t('picker.add', { name: agent.displayName })}
              </button>
              <span className="muted">
                {agent.unit === '' ? t('nav.noUnit') : agent.unit} · {agent.email}
              </span>
            </li>
          ))}
        </ul>
      ) : offered ? (
        <p className="muted">{t('picker.noMatch')}</p>
      ) : null}
    </fieldset>
  );
}

/** Whole units to invite: typed, or picked from the units the directory knows. */
export function UnitPicker({
  legend,
  selected,
  onChange,
}: {
  legend: string;
  selected: readonly string[];
  onChange: (units: string[]) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [value, setValue] = useState('');
  const [known, setKnown] = useState<readonly string[]>([]);

  useEffect(() => {
    let current = true;
    // Suggestions only: typing a unit works without them.
    api.directoryUnits().then(
      (answer) => {
        if (current) setKnown(answer.units);
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, []);

  const add = () => {
    const unit = value.trim();
    if (unit === '' || unit.length > 120) return;
    if (!selected.includes(unit)) onChange([...selected, unit]);
    setValue('');
  };

  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      {selected.length === 0 ? (
        <p className="muted picker-none">{t('picker.noUnits')}</p>
      ) : (
        <ul className="chips" aria-label={t('picker.chosen', { what: legend })}>
          {selected.map((unit) => (
            <li key={unit} className="chip">
              <span>{unit}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={t('picker.remove', { name: unit })}
                onClick={() => onChange(selected.filter((u) => u !== unit))}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline-add">
        <TextField
          id={`${id}-unit`}
          label={t('picker.unit')}
          list={`${id}-units`}
          autoComplete="off"
          maxLength={120}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              add();
            }
          }}
        />
        <datalist id={`${id}-units`}>
          {known
            .filter((unit) => !selected.includes(unit))
            .map((unit) => (
              <option key={unit} value={unit} />
            ))}
        </datalist>
        <button type="button" className="button" onClick={add} disabled={value.trim() === ''}>
          {t('picker.addUnit')}
        </button>
      </div>
    </fieldset>
  );
}
