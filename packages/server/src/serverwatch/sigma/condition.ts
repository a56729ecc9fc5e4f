/**
 * The condition of a Sigma rule (Sigma rules specification §Condition): search identifiers joined
 * with `and`, `or`, `not`, brackets, and `1 of x` / `all of x` over identifiers matching a pattern
 * or over `them`. Precedence, least to most binding: or, and, not, x of, brackets.
 */

/** A condition, parsed. */
export type ConditionNode =
  | { type: 'and' | 'or'; children: ConditionNode[] }
  | { type: 'not'; child: ConditionNode }
  | { type: 'ref'; name: string }
  /** `1 of pattern` (one) or `all of pattern`; pattern null for `them`. */
  | { type: 'of'; quantifier: 'one' | 'all'; pattern: string | null };

/** Why a condition could not be parsed, with the 1-based column, or what it uses that is not supported. */
export type ConditionResult =
  { ok: true; ast: ConditionNode } | { ok: false; error: string; column: number; unsupported?: string };

interface Token {
  kind: 'lparen' | 'rparen' | 'word' | 'pipe';
  text: string;
  /** 0-based offset in the condition. */
  at: number;
}

const OPERATORS = new Set(['and', 'or', 'not', 'of', 'them', 'all']);
const MAX_NESTING = 64;

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|(\|)|([^\s()|]+))/y;
  let match: RegExpExecArray | null;
  while (re.lastIndex < condition.length && (match = re.exec(condition)) !== null) {
    const at = match.index + match[0].length - (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').length;
    if (match[1]) tokens.push({ kind: 'lparen', text: '(', at });
    else if (match[2]) tokens.push({ kind: 'rparen', text: ')', at });
    else if (match[3]) tokens.push({ kind: 'pipe', text: '|', at });
    else if (match[4]) tokens.push({ kind: 'word', text: match[4], at });
    else break;
  }
  return tokens;
}

class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
    readonly unsupported?: string,
  ) {
    super(message);
  }
}

/**
 * The syntax tree of a condition, or where and why it is malformed. Operators are read in any
 * case (`AND` as `and`); identifiers are case-sensitive, as YAML keys are.
 *
 * @example
 *   parseCondition('selection and not 1 of filter_*')
 *   // { ok: true, ast: { type: 'and', children: [ { type: 'ref', name: 'selection' },
 *   //   { type: 'not', child: { type: 'of', quantifier: 'one', pattern: 'filter_*' } } ] } }
 */
export function parseCondition(condition: string): ConditionResult {
  const tokens = tokenize(condition);
  let position = 0;
  const peek = () => tokens[position];
  const word = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toLowerCase() : undefined);
  const end = condition.length;
  const fail = (message: string, at = peek()?.at ?? end, unsupported?: string): never => {
    throw new ConditionSyntaxError(message, at, unsupported);
  };

  const expression = (): ConditionNode => {
    const children = [conjunction()];
    while (word(peek()) === 'or') {
      position++;
      children.push(conjunction());
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  };
  const conjunction = (): ConditionNode => {
    const children = [unary()];
    while (word(peek()) === 'and') {
      position++;
      children.push(unary());
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  };
  // Brackets and negations nest by recursion here: bounded so that no condition can exhaust the stack.
  let depth = 0;
  const deeper = <T>(at: number, inner: () => T): T => {
    if (++depth > MAX_NESTING) fail(`nested more than ${MAX_NESTING} levels deep`, at);
    const result = inner();
    depth--;
    return result;
  };
  const unary = (): ConditionNode => {
    const t = peek();
    if (word(t) === 'not') {
      position++;
      return deeper(t!.at, () => ({ type: 'not', child: unary() }));
    }
    return primary();
  };
  const primary = (): ConditionNode => {
    const t = peek();
    if (t === undefined) return fail('the condition ends where a search identifier was expected');
    if (t.kind === 'lparen') {
      position++;
      const inner = deeper(t.at, expression);
      if (peek()?.kind !== 'rparen') fail('a bracket is not closed');
      position++;
      return inner;
    }
    if (t.kind === 'pipe') {
      return fail('aggregations after | are not supported', t.at, 'condition aggregation (|)');
    }
    if (t.kind === 'rparen') return fail('a closing bracket without an opening one', t.at);
    const lower = t.text.toLowerCase();
    if (word(tokens[position + 1]) === 'of') {
      let quantifier: 'one' | 'all';
      if (lower === '1') quantifier = 'one';
      else if (lower === 'all') quantifier = 'all';
      else if (/^\d+$/.test(lower) || lower === 'any') {
        return fail(`"${t.text} of" is not in the specification`, t.at, `condition "${t.text} of"`);
      } else return fail(`"${t.text} of": only "1 of" and "all of" exist`, t.at);
      position += 2;
      const target = peek();
      if (
        target?.kind !== 'word' ||
        (OPERATORS.has(target.text.toLowerCase()) && target.text.toLowerCase() !== 'them')
      ) {
        return fail(`"${t.text} of" needs "them" or a search identifier pattern`);
      }
      position++;
      return { type: 'of', quantifier, pattern: target.text.toLowerCase() === 'them' ? null : target.text };
    }
    if (OPERATORS.has(lower) || lower === '1')
      return fail(`"${t.text}" where a search identifier was expected`, t.at);
    position++;
    return { type: 'ref', name: t.text };
  };

  try {
    if (tokens.length === 0) fail('the condition is empty', 0);
    const ast = expression();
    const rest = peek();
    if (rest !== undefined) {
      if (rest.kind === 'pipe')
        fail('aggregations after | are not supported', rest.at, 'condition aggregation (|)');
      fail(`unexpected "${rest.text}"`, rest.at);
    }
    return { ok: true, ast };
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    return {
      ok: false,
      error: error.message,
      column: error.at + 1,
      ...(error.unsupported === undefined ? {} : { unsupported: error.unsupported }),
    };
  }
}

/**
 * The search identifiers `1 of pattern` / `all of pattern` stand for: those the pattern matches
 * (`*` for any characters), or for `them` all but those starting with `_` (spec §Condition).
 */
export function identifiersOf(pattern: string | null, identifiers: readonly string[]): string[] {
  if (pattern === null) return identifiers.filter((name) => !name.startsWith('_'));
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[\\^$.+?()[\]{}|]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return identifiers.filter((name) => re.test(name));
}

/** The first search identifier the condition uses that the detection does not define, or pattern matching none. */
export function undefinedIdentifier(ast: ConditionNode, identifiers: readonly string[]): string | undefined {
  switch (ast.type) {
    case 'ref':
      return identifiers.includes(ast.name) ? undefined : `search identifier "${ast.name}" is not defined`;
    case 'of':
      return identifiersOf(ast.pattern, identifiers).length > 0
        ? undefined
        : ast.pattern === null
          ? '"them" stands for no search identifier'
          : `no search identifier matches "${ast.pattern}"`;
    case 'not':
      return undefinedIdentifier(ast.child, identifiers);
    case 'and':
    case 'or':
      for (const child of ast.children) {
        const problem = undefinedIdentifier(child, identifiers);
        if (problem) return problem;
      }
      return undefined;
  }
}
