/**
 * The steps of one leak check, as states the page shows: a chosen file is refused on the spot or
 * sent; the server's answer is the report, or the reason there is none.
 */
import type { LeakCheckResult } from '@rempart/core';
import { api } from '../api';
import { refuseImage, type ImageRefusal } from './image';

/** The file as the page names it. */
export interface ChosenImage {
  name: string;
  bytes: number;
}

export type LeakCheckState =
  | { phase: 'idle' }
  | { phase: 'refused'; image: ChosenImage; refusal: ImageRefusal }
  | { phase: 'checking'; image: ChosenImage }
  | { phase: 'failed'; image: ChosenImage; error: unknown }
  | { phase: 'checked'; image: ChosenImage; result: LeakCheckResult };

/**
 * Checks one file, telling `show` each state it goes through: `refused` (nothing is uploaded),
 * or `checking` then `checked` or `failed`. Never rejects.
 *
 * @example
 *   await runLeakCheck(file, setState);
 */
export async function runLeakCheck(file: File, show: (state: LeakCheckState) => void): Promise<void> {
  const image = { name: file.name, bytes: file.size };
  const refusal = refuseImage(file);
  if (refusal !== undefined) {
    show({ phase: 'refused', image, refusal });
    return;
  }
  show({ phase: 'checking', image });
  try {
    show({ phase: 'checked', image, result: await api.leakCheck(file, { redact: true }) });
  } catch (error) {
    show({ phase: 'failed', image, error });
  }
}
