/**
 * Imported first by main.tsx, before any schema exists. The console runs under a CSP without
 * 'unsafe-eval'; zod's object schemas would otherwise probe `new Function` as they are built,
 * which the browser reports as a CSP violation even though zod catches the error.
 */
import { z } from 'zod';

z.config({ jitless: true });
