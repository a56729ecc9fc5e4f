import { ApiError } from '../../api';

/** A refusal the server words better than a code can (a range it cannot read, an unknown list). */
export function ServerDetail({ error }: { error: unknown }) {
  if (!(error instanceof ApiError)) return null;
  if (error.code !== 'validation_failed' && error.code !== 'conflict') return null;
  return <p className="field-hint server-detail">{error.message}</p>;
}
