/** Form fields with their label, hint and error wired for assistive technologies. */
import type { InputHTMLAttributes, ReactNode, Ref, SelectHTMLAttributes } from 'react';

interface FieldProps {
  id: string;
  label: string;
  hint?: ReactNode;
  /** A message about this field; it marks the field invalid. */
  problem?: string | undefined;
}

function describedBy(id: string, hint: ReactNode, problem: string | undefined): string | undefined {
  const ids = [hint === undefined ? undefined : `${id}-hint`, problem ? `${id}-problem` : undefined];
  const joined = ids.filter((value) => value !== undefined).join(' ');
  return joined === '' ? undefined : joined;
}

function Extras({ id, hint, problem }: Omit<FieldProps, 'label'>) {
  return (
    <>
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
    </>
  );
}

export function TextField({
  id,
  label,
  hint,
  problem,
  className,
  ref,
  ...input
}: FieldProps & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & { ref?: Ref<HTMLInputElement> }) {
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input
        ref={ref}
        id={id}
        aria-describedby={describedBy(id, hint, problem)}
        aria-invalid={problem ? true : undefined}
        {...input}
      />
      <Extras id={id} hint={hint} problem={problem} />
    </div>
  );
}

export function SelectField({
  id,
  label,
  hint,
  problem,
  children,
  ...select
}: FieldProps & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-describedby={describedBy(id, hint, problem)} {...select}>
        {children}
      </select>
      <Extras id={id} hint={hint} problem={problem} />
    </div>
  );
}

/** A checkbox with its label beside it; `hint` explains what ticking it does. */
export function CheckboxField({
  id,
  label,
  hint,
  ...input
}: Omit<FieldProps, 'problem'> & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'type'>) {
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" aria-describedby={describedBy(id, hint, undefined)} {...input} />
      <label htmlFor={id}>{label}</label>
      <Extras id={id} hint={hint} />
    </div>
  );
}

/** A file to choose; `onFile` is given the chosen file, or undefined when the choice is cleared. */
export function FileField({
  onFile,
  ...field
}: FieldProps &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'type' | 'onChange'> & {
    ref?: Ref<HTMLInputElement>;
    onFile: (file: File | undefined) => void;
  }) {
  return <TextField {...field} type="file" onChange={(event) => onFile(event.target.files?.[0])} />;
}
