import { describe, expect, it } from 'vitest';
import { rememberReturnPath, takeReturnPath } from './return-path';

describe('the page an agent goes back to after signing in', () => {
  it('is an application’s sign-in request when that is where they came from, and only once', () => {
    rememberReturnPath('/oidc/interaction/PCAyHyTSwDLLGJ8I1NsHu');
    expect(takeReturnPath()).toBe('/oidc/interaction/PCAyHyTSwDLLGJ8I1NsHu');
    expect(takeReturnPath()).toBeUndefined();
  });

  it('is never the sign-in or enrolment pages themselves', () => {
    for (const path of ['/', '/sign-in', '/enrol', '/enrol/abc']) {
      rememberReturnPath(path);
      expect(takeReturnPath()).toBeUndefined();
    }
  });
});
