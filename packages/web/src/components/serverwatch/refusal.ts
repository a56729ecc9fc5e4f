import { ApiError } from '../../api';

/**
 * The server's own words when it refused what was typed (a search the language cannot read, a
 * rule that does not load: they say where, which no translated sentence can); undefined for any
 * other failure, which the page's error message reports.
 */
export function inputRefusal(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.status !== 400 && error.status !== 422) return undefined;
  return error.message === '' ? undefined : error.message;
}
