/**
 * The one error the Sigma loader throws: what is wrong with a rule, in which file and on which line,
 * so that whoever wrote the rule can fix it without guessing.
 */
import { RempartError } from '@rempart/core';

/** Where in a rule file something is, 1-based. */
export interface SigmaPosition {
  line: number;
  column?: number;
}

/**
 * A rule that cannot be loaded or compiled. Its message starts with `file:line:`; `details` holds
 * the file, line and column for clients. It is a `validation_failed` error: bad input, not a bug.
 *
 * @example
 *   try { loadSigmaRule(text, 'rules/x.yml') } catch (e) { if (e instanceof SigmaRuleError) e.line }
 */
export class SigmaRuleError extends RempartError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The problem alone, without the file and line. */
  readonly problem: string;

  constructor(
    file: string,
    position: SigmaPosition | undefined,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    const where =
      position === undefined
        ? file
        : `${file}:${position.line}${position.column ? `:${position.column}` : ''}`;
    super('validation_failed', `${where}: ${problem}`, {
      cause: options.cause,
      details: { file, ...(position === undefined ? {} : position), problem },
    });
    this.name = 'SigmaRuleError';
    this.file = file;
    this.line = position?.line;
    this.column = position?.column;
    this.problem = problem;
  }
}

/**
 * A problem found below the loader (a modifier, a value, a condition), raised with the line of the
 * YAML node it concerns; the loader turns it into a `SigmaRuleError` naming the file.
 */
export class SigmaProblem extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
    this.name = 'SigmaProblem';
  }
}
