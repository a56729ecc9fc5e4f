/**
 * The two media engines a meeting's e2e test runs on: the embedded SFU, and Janus (a real Janus
 * Gateway on loopback, started here with its API locked by secrets only this Rempart knows).
 *
 * @example
 *   describe.each(engines)('on the %s engine', (engine) => {
 *     beforeAll(async () => { rempart = await startRempartOn(engine); });
 *     afterAll(() => rempart.stop()); // stops its Janus too
 *   });
 */
import { startJanus } from '../../packages/server/src/test-support/janus.js';
import { firstAdmin, type ApiAgent } from './api-agent.js';
import { startRempart, type RunningRempart } from './server.js';

export const engines = ['embedded', 'janus'] as const;
export type EngineName = (typeof engines)[number];

/**
 * Starts `rempart serve` on `engine` with `extraEnv`. For Janus, one Janus of its own is started
 * first and configured through REMPART_JANUS_*; the returned `stop` stops both.
 */
export async function startRempartOn(
  engine: EngineName,
  extraEnv: Record<string, string> = {},
): Promise<RunningRempart> {
  if (engine === 'embedded') return startRempart({ ...extraEnv, REMPART_MEDIA_ENGINE: 'embedded' });
  const janus = await startJanus();
  try {
    const rempart = await startRempart({
      ...extraEnv,
      REMPART_MEDIA_ENGINE: 'janus',
      REMPART_JANUS_NODES: janus.url,
      REMPART_JANUS_API_SECRET: janus.secrets.apiSecret,
      REMPART_JANUS_ADMIN_KEY: janus.secrets.adminKey,
    });
    return {
      ...rempart,
      stop: async () => {
        await rempart.stop();
        await janus.stop();
      },
    };
  } catch (error) {
    await janus.stop();
    throw error;
  }
}

/**
 * A meeting story's start: Rempart on `engine`, and its first administrator, Claire Martin of
 * the minister's office, who hosts. Rempart is stopped again when the administrator cannot be made.
 */
export async function startWithHost(
  engine: EngineName,
  extraEnv: Record<string, string> = {},
): Promise<{ rempart: RunningRempart; host: ApiAgent }> {
  const rempart = await startRempartOn(engine, extraEnv);
  try {
    const host = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
      email: 'claire.martin@interieur.gouv.fr',
      name: 'Claire Martin',
      unit: 'Cabinet du ministre',
    });
    return { rempart, host };
  } catch (error) {
    await rempart.stop();
    throw error;
  }
}
