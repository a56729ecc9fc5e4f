/**
 * The people of the 2020 incident stories: the host who runs the ministers' meeting (the first
 * administrator), an invited minister, and a colleague of the ministry.
 */
import { firstAdmin, type ApiAgent } from './api-agent.js';
import type { RunningRempart } from './server.js';

export interface IncidentCast {
  host: ApiAgent;
  minister: ApiAgent;
  colleague: ApiAgent;
}

export async function incidentCast(rempart: RunningRempart): Promise<IncidentCast> {
  const host = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'claire.martin@defense.gouv.fr',
    name: 'Claire Martin',
    unit: 'Cabinet',
  });
  const minister = await host.invite({
    email: 'jan.peeters@defensie.be',
    displayName: 'Jan Peeters',
    unit: 'Defensie',
    clearance: 'secret',
  });
  const colleague = await host.invite({
    email: 'lucas.bernard@defense.gouv.fr',
    displayName: 'Lucas Bernard',
    unit: 'DGRIS',
    clearance: 'secret',
  });
  return { host, minister, colleague };
}
