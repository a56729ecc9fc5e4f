/**
 * The page an agent asked for before being sent to sign in or to enrol a second factor, so the
 * console can take them there afterwards (an application's sign-in request, `/oidc/interaction/…`,
 * among them). Kept in memory only: a path is not worth persisting.
 */
let returnPath: string | undefined;

export function rememberReturnPath(path: string): void {
  returnPath = path === '/' || path.startsWith('/sign-in') || path.startsWith('/enrol') ? undefined : path;
}

export function takeReturnPath(): string | undefined {
  const path = returnPath;
  returnPath = undefined;
  return path;
}
