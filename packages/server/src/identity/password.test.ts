import { describe, expect, it } from 'vitest';
import { argon2Hasher, checkPasswordPolicy } from './password.js';

const code = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('password policy', () => {
  it.each([
    ['short', 'weak_password'],
    ['elevenchars', 'weak_password'],
    ['123456789012', 'common_password'],
    ['qwertyuiop123', 'common_password'],
    ['Password2024!', 'common_password'],
    ['azertyuiop12', 'common_password'],
    ['Wachtwoord123!', 'common_password'],
    ['aaaaaaaaaaaaaaaa', 'common_password'],
    ['abababababababab', 'common_password'],
    ['correct-horse-battery-staple', undefined],
    ['Le soleil de Brest 1987', undefined],
  ])('%s → %s', (password, expected) => {
    expect(code(() => checkPasswordPolicy(password))).toBe(expected);
  });

  it("refuses the agent's own email or name as the password", () => {
    expect(code(() => checkPasswordPolicy('claire.martin', ['claire.martin@x.fr', 'Claire Martin']))).toBe(
      'common_password',
    );
    expect(
      code(() => checkPasswordPolicy('Claire-Martin-75!', ['claire.martin@x.fr', 'Claire Martin'])),
    ).toBe('common_password');
    expect(code(() => checkPasswordPolicy('claire walks along the Seine', ['claire.martin@x.fr']))).toBe(
      undefined,
    );
    expect(code(() => checkPasswordPolicy('jeanbaptiste2024', ['jeanbaptiste@x.fr']))).toBe(
      'common_password',
    );
  });

  it('counts characters, not bytes', () => {
    expect(code(() => checkPasswordPolicy('ééééééééééé'))).toBe('weak_password');
  });
});

describe('argon2id hashing', () => {
  it('verifies the right password only and uses argon2id', async () => {
    const hashed = await argon2Hasher.hash('correct-horse-battery-staple');
    expect(hashed.startsWith('$argon2id$')).toBe(true);
    expect(await argon2Hasher.verify(hashed, 'correct-horse-battery-staple')).toBe(true);
    expect(await argon2Hasher.verify(hashed, 'correct-horse-battery-stapl')).toBe(false);
    expect(await argon2Hasher.verify('not a hash', 'x')).toBe(false);
  });
});
