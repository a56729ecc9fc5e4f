/**
 * The page an agent asked for before being sent to sign in, so the console can take them there
 * afterwards. Kept in memory only: a path is not worth persisting.
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
