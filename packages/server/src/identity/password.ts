/**
 * Password hashing (argon2id) and the password policy: NIST SP 800-63B §5.1.1.2 —
 * a minimum length and a check against known common passwords, no composition rules.
 */
import { readFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { IdentityError, PASSWORD_MIN_LENGTH } from '@rempart/core';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
// algorithm 2 is Argon2id (the package's enum is a const enum, which isolated modules cannot read).
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
}

export const argon2Hasher: PasswordHasher = {
  hash: (password) => hash(password, ARGON2_OPTIONS),
  verify: async (hashed, password) => {
    try {
      return await verify(hashed, password);
    } catch {
      return false;
    }
  },
};

/**
 * A hash of a password nobody has, verified when the account does not exist so that
 * an unknown email costs the same time as a wrong password (no account enumeration).
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(hasher: PasswordHasher): Promise<string> {
  decoyHash ??= hasher.hash(`decoy-${Math.random()}-${Date.now()}`);
  return decoyHash;
}

let commonPasswords: Set<string> | undefined;
function loadCommonPasswords(): Set<string> {
  if (commonPasswords) return commonPasswords;
  // The zxcvbn common list (≈49,000 leaked passwords, MIT) plus French and Dutch ones we add.
  const extra = readFileSync(new URL('../../assets/common-passwords-fr-nl.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  commonPasswords = new Set([...dictionary['passwords-common'].map((p) => p.toLowerCase()), ...extra]);
  return commonPasswords;
}

/** The password without the digits and symbols people pad a common word with ("Password2024!"). */
function cores(password: string): string[] {
  const lower = password.toLowerCase();
  const stripped = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  return stripped.length >= 4 && stripped !== lower ? [lower, stripped] : [lower];
}

/** Throws `weak_password` or `common_password`; context words (the agent's email, name) count as common. */
export function checkPasswordPolicy(password: string, context: string[] = []): void {
  if ([...password].length < PASSWORD_MIN_LENGTH) throw IdentityError.weakPassword(PASSWORD_MIN_LENGTH);
  const list = loadCommonPasswords();
  const candidates = cores(password);
  if (candidates.some((c) => list.has(c))) throw IdentityError.commonPassword();
  if (new Set(password).size <= 2) throw IdentityError.commonPassword();
  // The agent's own email or name, give or take a few characters, is as good as public.
  const squash = (v: string) => v.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  const squashed = squash(password);
  const tokens = context.flatMap((c) => [
    squash(c.split('@')[0] ?? c),
    ...c.toLowerCase().split(/[^\p{L}\p{N}]+/u),
  ]);
  if (tokens.some((t) => t.length >= 4 && squashed.includes(t) && squashed.length - t.length < 6)) {
    throw IdentityError.commonPassword();
  }
}
