/**
 * Enough of the STIX patterning language (STIX 2.1 §9) to read indicators of compromise: the
 * comparison expressions of a pattern (object path, operator, values) and whether it joins them
 * with AND or FOLLOWEDBY, so that a pattern that needs several facts at once is never read as one
 * value; and to tell a malformed pattern from one about something else.
 */

/** `[path op value]`, or `[path IN (value, …)]`, optionally negated with NOT. */
export interface PatternComparison {
  /** The object path: `domain-name:value`, `file:hashes.'SHA-256'`, `app:id`… */
  path: string;
  negated: boolean;
  /** `=`, `!=`, `<`, `>`, `<=`, `>=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`. */
  operator: string;
  /** The string literals compared with (one for `=`, the list for `IN`; typed literals too). */
  values: string[];
}

export interface ParsedPattern {
  comparisons: PatternComparison[];
  /** The operator that makes one comparison alone insufficient, if any. */
  needsMore?: string;
}

type Token = { kind: 'string' | 'word' | 'punct'; value: string };

const OPERATORS = new Set([
  '=',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  'IN',
  'LIKE',
  'MATCHES',
  'ISSUBSET',
  'ISSUPERSET',
]);

/**
 * The comparisons of `pattern`, or a message saying why it is malformed.
 *
 * @example
 *   parsePattern("[domain-name:value IN ('a.example', 'b.example')]")
 *   // { comparisons: [{ path: 'domain-name:value', negated: false, operator: 'IN', values: ['a.example', 'b.example'] }] }
 */
export function parsePattern(pattern: string): ParsedPattern | string {
  const tokens = tokenize(pattern);
  if (typeof tokens === 'string') return tokens;
  let depth = 0;
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if (t.value === '[' || t.value === '(') depth++;
    if (t.value === ']' || t.value === ')') depth--;
    if (depth < 0) return `unbalanced "${t.value}"`;
  }
  if (depth !== 0) return 'unbalanced brackets';
  if (tokens[0]?.value !== '[' && tokens[0]?.value !== '(') return 'a pattern starts with [';

  const result: ParsedPattern = { comparisons: [] };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'word' && (t.value === 'AND' || t.value === 'FOLLOWEDBY')) result.needsMore ??= t.value;
    // An object path is the only word with a colon (type:property); keywords and numbers have none.
    if (t.kind !== 'word' || !t.value.includes(':')) continue;
    const path = t.value;
    let j = i + 1;
    const negated = tokens[j]?.value === 'NOT';
    if (negated) j++;
    const op = tokens[j];
    if (op === undefined || !OPERATORS.has(op.value)) return `no operator after ${path}`;
    const values: string[] = [];
    if (op.value === 'IN') {
      if (tokens[j + 1]?.value !== '(') return `IN without a list after ${path}`;
      for (j += 2; tokens[j] && tokens[j]?.value !== ')'; j++) {
        const v = tokens[j] as Token;
        if (v.kind === 'string') values.push(v.value);
      }
    } else if (tokens[j + 1]?.kind === 'string') {
      values.push((tokens[j + 1] as Token).value);
    }
    result.comparisons.push({ path, negated, operator: op.value, values });
    i = j;
  }
  return result;
}

function tokenize(pattern: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  const readString = (): string | undefined => {
    // After the opening quote. STIX 2.1 §9.2: a quote or backslash inside is escaped by a backslash.
    let value = '';
    for (i++; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\') {
        value += pattern[++i] ?? '';
      } else if (c === "'") {
        i++;
        return value;
      } else {
        value += c;
      }
    }
    return undefined;
  };
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      const value = readString();
      if (value === undefined) return 'unterminated string';
      tokens.push({ kind: 'string', value });
    } else if ('[]()'.includes(c) || c === ',') {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else if ('=!<>'.includes(c)) {
      const two = pattern.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      if (op === '!') return 'unexpected "!"';
      tokens.push({ kind: 'punct', value: op });
      i += op.length;
    } else if (/[\w:.*-]/.test(c)) {
      // A keyword, a number, an object path (file:hashes.'SHA-256', x:refs[*].value), or a
      // typed literal (t'2021-01-01T00:00:00Z', h'ff', b'AQID').
      let word = '';
      while (i < pattern.length) {
        const d = pattern[i] ?? '';
        if (/[\w:.*-]/.test(d)) {
          word += d;
          i++;
        } else if (d === "'") {
          if (/^[thb]$/.test(word)) {
            const value = readString();
            if (value === undefined) return 'unterminated string';
            word = '';
            tokens.push({ kind: 'string', value });
            break;
          }
          const value = readString();
          if (value === undefined) return 'unterminated string';
          word += `'${value}'`;
        } else if (d === '[' && /^\[(\d+|\*)\]/.test(pattern.slice(i))) {
          const index = /^\[(\d+|\*)\]/.exec(pattern.slice(i))?.[0] ?? '';
          word += index;
          i += index.length;
        } else {
          break;
        }
      }
      if (word !== '') tokens.push({ kind: 'word', value: word });
    } else {
      return `unexpected character ${JSON.stringify(c)}`;
    }
  }
  return tokens;
}
