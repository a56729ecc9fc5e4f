/**
 * The network guard's form fields that `../fields` has no kind for: a text area of one value a
 * line, and a choice of one among a few, each described; and why a chosen file is not sent.
 * Labels, hints and problems are wired for assistive technologies as in `../fields`.
 */
import { useEffect, useRef, type ReactNode, type RefObject, type TextareaHTMLAttributes } from 'react';
import type { Translate } from '../../i18n';
import { formatSize } from '../../leakcheck/image';
import type { LineProblem } from '../../netguard/lines';
import { refuseListFile } from '../../netguard/lists';

/**
 * The ref of a form whose first invalid field takes the focus each time `problems` is replaced
 * (after a refused submit), so keyboard and screen reader users land on what to fix.
 */
export function useFocusOnProblem(problems: object): RefObject<HTMLFormElement | null> {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [problems]);
  return form;
}

function describedBy(id: string, hint: ReactNode, problem: string | undefined): string | undefined {
  const ids = [hint === undefined ? undefined : `${id}-hint`, problem ? `${id}-problem` : undefined];
  const joined = ids.filter((value) => value !== undefined).join(' ');
  return joined === '' ? undefined : joined;
}

export function TextAreaField({
  id,
  label,
  hint,
  problem,
  className,
  ...textarea
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  problem?: string | undefined;
} & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'>) {
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        aria-describedby={describedBy(id, hint, problem)}
        aria-invalid={problem ? true : undefined}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        {...textarea}
      />
      {hint === undefined ? null : (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {problem ? (
        <p id={`${id}-problem`} className="field-problem">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

export interface RadioOption<T extends string> {
  value: T;
  label: string;
  hint?: string;
}

/** One choice among a few, each option with its own label and what choosing it does. */
export function RadioGroupField<T extends string>({
  name,
  legend,
  options,
  value,
  disabled = false,
  onChange,
  className,
}: {
  name: string;
  legend: string;
  options: readonly RadioOption<T>[];
  value: T;
  disabled?: boolean;
  onChange: (value: T) => void;
  className?: string;
}) {
  return (
    <fieldset className={className ? `choice-list ${className}` : 'choice-list'}>
      <legend>{legend}</legend>
      {options.map((option) => {
        const id = `${name}-${option.value}`;
        return (
          <div key={option.value} className="field field-check">
            <input
              id={id}
              type="radio"
              name={name}
              value={option.value}
              checked={value === option.value}
              disabled={disabled}
              aria-describedby={option.hint === undefined ? undefined : `${id}-hint`}
              onChange={() => onChange(option.value)}
            />
            <label htmlFor={id}>{option.label}</label>
            {option.hint === undefined ? null : (
              <p id={`${id}-hint`} className="field-hint">
                {option.hint}
              </p>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

/**
 * Why a chosen file is not sent, in one sentence: none chosen, empty, or larger than the server
 * takes (a list and an MDM export have the same limit); undefined when it may be sent.
 */
export function fileProblem(file: File | undefined, t: Translate, language: string): string | undefined {
  if (file === undefined) return t('netguard.file.required');
  const refusal = refuseListFile(file);
  if (refusal === undefined) return undefined;
  switch (refusal.reason) {
    case 'empty':
      return t('netguard.file.empty', { name: file.name });
    case 'too_large':
      return t('netguard.file.tooLarge', {
        name: file.name,
        size: formatSize(refusal.bytes, language),
        max: formatSize(refusal.max, language),
      });
  }
}

/** How many refused lines a message names before it only counts the rest. */
const NAMED_LINES = 5;

/**
 * The lines of a text area that were refused, in one sentence: `intro` then each line's number
 * and text, the first few only.
 *
 * @example
 *   linesProblem(t, t('netguard.groups.cidrsInvalid'), [{ line: 2, text: '10.0.0/8' }])
 *   // → "Not address ranges: line 2 (10.0.0/8)."
 */
export function linesProblem(t: Translate, intro: string, problems: readonly LineProblem[]): string {
  const named = problems
    .slice(0, NAMED_LINES)
    .map((problem) => t('netguard.lines.one', { line: problem.line, text: problem.text }));
  const more = problems.length - named.length;
  const list = more > 0 ? [...named, t('netguard.lines.more', { count: more })] : named;
  return t('netguard.lines.problem', { intro, lines: list.join(t('netguard.lines.separator')) });
}
