/**
 * The network guard over HTTP: DNS over HTTPS at `/dns-query` (RFC 8484), and the console's
 * API for groups, lists, verdicts, statistics, device profiles and enrolled devices.
 */
import {
  Category,
  Device,
  DnsTestQuery,
  DnsVerdict,
  EnrolledDevice,
  Group,
  GroupId,
  GroupInput,
  IdParam,
  InventoryReport,
  MdmImportResult,
  ListUploadQuery,
  NETGUARD_LIST_MAX_BYTES,
  NetguardList,
  PolicyExportQuery,
  QueryStats,
  QueryStatsQuery,
  RempartError,
  DeviceEnrolment,
  ReplicaPolicy,
  ReplicaQueryBatch,
  ReplicaSpywareDomains,
} from '@rempart/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { NetguardService } from './netguard.service.js';

/** A DNS message is at most 65,535 bytes (RFC 8484 §6, RFC 1035 §4.2.2). */
const DOH_MAX_BYTES = 65_535;
/** A replica's query log shipment: 20,000 rows of a few hundred bytes at most. */
const REPLICA_BATCH_MAX_BYTES = 16 * 1024 * 1024;

const actorOf = (request: FastifyRequest) => {
  const auth = requireAuth(request, 'admin');
  return { actor: { id: auth.agent.id, email: auth.agent.email }, ip: requestContext(request).ip };
};

export async function netguardRoutes(app: FastifyInstance, netguard: NetguardService): Promise<void> {
  // DNS over HTTPS: the message itself is the body (POST) or the `dns` parameter (GET).
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: DOH_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as Record<string, string | undefined>;
      const answer = await netguard.doh(
        {
          method: request.method,
          dns: query.dns,
          contentType: request.headers['content-type'],
          accept: request.headers.accept,
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
        },
        requestContext(request).ip,
      );
      void reply.code(answer.status).headers(answer.headers);
      return reply.send(answer.body);
    };
    const schema = { tags: ['netguard'], summary: 'DNS over HTTPS (RFC 8484)', hide: false };
    scoped.get(
      '/dns-query',
      { schema: { ...schema, description: 'GET with ?dns=<base64url message>' } },
      handler,
    );
    scoped.post(
      '/dns-query',
      { bodyLimit: DOH_MAX_BYTES, schema: { ...schema, description: 'POST application/dns-message' } },
      handler,
    );
    done();
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['netguard'];

  r.get(
    '/api/netguard/groups',
    {
      schema: {
        tags,
        summary: 'Groups of clients and their policies',
        response: { 200: z.object({ groups: z.array(Group) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { groups: await netguard.listGroups() };
    },
  );

  r.put(
    '/api/netguard/groups/:id',
    {
      schema: {
        tags,
        summary: 'Create or replace a group',
        params: z.object({ id: GroupId }),
        body: GroupInput,
        response: { 200: z.object({ group: Group }), ...errorResponses },
      },
    },
    async (request) => {
      const { actor, ip } = actorOf(request);
      return { group: await netguard.saveGroup(actor, request.params.id, request.body, ip) };
    },
  );

  r.delete(
    '/api/netguard/groups/:id',
    {
      schema: {
        tags,
        summary: 'Delete a group (not the default one)',
        params: z.object({ id: GroupId }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      await netguard.deleteGroup(actor, request.params.id, ip);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/netguard/categories',
    {
      schema: {
        tags,
        summary: 'The categories that ship with Rempart',
        response: { 200: z.object({ categories: z.array(Category) }), ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return { categories: netguard.listCategories() };
    },
  );

  r.get(
    '/api/netguard/lists',
    {
      schema: {
        tags,
        summary: 'Stored block lists and allow-lists',
        response: { 200: z.object({ lists: z.array(NetguardList) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { lists: await netguard.listLists() };
    },
  );

  // A list is uploaded as its text: hosts file, domains, or adblock syntax.
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser(
      ['text/plain', 'text/csv', 'application/octet-stream'],
      { parseAs: 'string', bodyLimit: NETGUARD_LIST_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    const s = scoped.withTypeProvider<ZodTypeProvider>();
    const text = (request: FastifyRequest): string => {
      if (typeof request.body !== 'string')
        throw new RempartError('unsupported_media_type', 'Send the list as text/plain.');
      return request.body;
    };
    s.post(
      '/api/netguard/lists',
      {
        bodyLimit: NETGUARD_LIST_MAX_BYTES,
        schema: {
          tags,
          summary: 'Upload a list (text/plain body)',
          querystring: ListUploadQuery,
          response: { 201: z.object({ list: NetguardList }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { actor, ip } = actorOf(request);
        const list = await netguard.addList(actor, { ...request.query, text: text(request) }, ip);
        return reply.code(201).send({ list });
      },
    );
    s.post(
      '/api/netguard/devices/import',
      {
        bodyLimit: NETGUARD_LIST_MAX_BYTES,
        schema: {
          tags,
          summary:
            "Import an MDM's CSV inventory export (text/csv or text/plain body): apps per device, compliance decided",
          response: { 200: MdmImportResult, ...errorResponses },
        },
      },
      async (request) => {
        const { actor, ip } = actorOf(request);
        return netguard.importMdmCsv(actor, text(request), ip);
      },
    );
    s.put(
      '/api/netguard/lists/:id',
      {
        bodyLimit: NETGUARD_LIST_MAX_BYTES,
        schema: {
          tags,
          summary: "Replace an uploaded list's text; groups using it switch at once",
          params: IdParam,
          response: { 200: z.object({ list: NetguardList }), ...errorResponses },
        },
      },
      async (request) => {
        const { actor, ip } = actorOf(request);
        return { list: await netguard.replaceList(actor, request.params.id, text(request), ip) };
      },
    );
    done();
  });

  r.delete(
    '/api/netguard/lists/:id',
    {
      schema: {
        tags,
        summary: 'Delete a list no group uses',
        params: IdParam,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      await netguard.deleteList(actor, request.params.id, ip);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/netguard/test',
    {
      schema: {
        tags,
        summary: 'Explain the verdict on a name for a client: group, matching rules, deciding rule',
        querystring: DnsTestQuery,
        response: { 200: DnsVerdict, ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return netguard.explain(request.query.domain, request.query.client);
    },
  );

  r.get(
    '/api/netguard/stats',
    {
      schema: {
        tags,
        summary: 'Queries and blocks over time, top blocked names, top clients',
        querystring: QueryStatsQuery,
        response: { 200: QueryStats, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return netguard.stats(request.query.hours);
    },
  );

  r.get(
    '/api/netguard/policy',
    {
      schema: {
        tags,
        summary: "A group's device profile: Apple .mobileconfig or Android Management API policy",
        querystring: PolicyExportQuery,
        response: { 200: z.string(), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAuth(request, 'admin');
      const out = await netguard.exportPolicy(request.query.platform, request.query.group);
      return reply
        .type(out.contentType)
        .header('content-disposition', `attachment; filename="${out.filename}"`)
        .send(out.body);
    },
  );

  r.get(
    '/api/netguard/devices',
    {
      schema: {
        tags,
        summary: 'Enrolled devices and their compliance',
        response: { 200: z.object({ devices: z.array(Device) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { devices: await netguard.listDevices() };
    },
  );

  r.post(
    '/api/netguard/devices',
    {
      schema: {
        tags,
        summary: 'Enrol a device; its token is shown once',
        body: DeviceEnrolment,
        response: { 201: EnrolledDevice, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      return reply.code(201).send(await netguard.enrolDevice(actor, request.body, ip));
    },
  );

  r.delete(
    '/api/netguard/devices/:id',
    {
      schema: {
        tags,
        summary: 'Remove a device (its token dies)',
        params: IdParam,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      await netguard.deleteDevice(actor, request.params.id, ip);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/netguard/devices/:id/inventory',
    {
      schema: {
        tags,
        summary: "An administrator imports a device's installed apps (from an MDM export)",
        params: IdParam,
        body: InventoryReport,
        response: { 200: z.object({ device: Device }), ...errorResponses },
      },
    },
    async (request) => {
      const { actor, ip } = actorOf(request);
      return { device: await netguard.importInventory(actor, request.params.id, request.body, ip) };
    },
  );

  r.post(
    '/api/netguard/inventory',
    {
      schema: {
        tags,
        summary: 'An enrolled device reports its installed apps (Authorization: Bearer <device token>)',
        body: InventoryReport,
        response: { 200: z.object({ device: Device }), ...errorResponses },
      },
    },
    async (request) => {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header)?.[1];
      if (!token)
        throw new RempartError(
          'device_token_invalid',
          'Send the device token as Authorization: Bearer <token>.',
        );
      return { device: await netguard.reportInventory(token, request.body, requestContext(request).ip) };
    },
  );

  // Resolver replicas (`rempart dns serve --replica-of URL`): they present the shared secret.
  const replicaTags = ['netguard replicas'];
  r.get(
    '/api/netguard/replica/policy',
    {
      schema: {
        tags: replicaTags,
        summary:
          "A replica's policy: groups, lists by version, devices (Authorization: Bearer <replica secret>; If-None-Match: the version held gives 304)",
        response: { 200: ReplicaPolicy, 304: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      netguard.checkReplica(request.headers.authorization);
      const policy = await netguard.replicaPolicy();
      const etag = `"${policy.version}"`;
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      return policy;
    },
  );

  r.get(
    '/api/netguard/replica/lists/:id',
    {
      schema: {
        tags: replicaTags,
        summary: "The text of a list a replica's policy names; its version in Rempart-List-Version",
        params: IdParam,
        response: { 200: z.string(), ...errorResponses },
      },
    },
    async (request, reply) => {
      netguard.checkReplica(request.headers.authorization);
      const list = await netguard.replicaList(request.params.id);
      return reply
        .header('rempart-list-version', list.version)
        .type('text/plain; charset=utf-8')
        .send(list.text);
    },
  );

  r.get(
    '/api/netguard/replica/spyware',
    {
      schema: {
        tags: replicaTags,
        summary:
          "The spyware category's domains (shipped and imported indicator sets), for a replica whose policy names another spywareRevision than the one it holds",
        response: { 200: ReplicaSpywareDomains, ...errorResponses },
      },
    },
    async (request, reply) => {
      netguard.checkReplica(request.headers.authorization);
      const spyware = await netguard.replicaSpywareDomains();
      void reply.header('cache-control', 'no-cache');
      return spyware;
    },
  );

  r.post(
    '/api/netguard/replica/queries',
    {
      bodyLimit: REPLICA_BATCH_MAX_BYTES,
      schema: {
        tags: replicaTags,
        summary:
          "A replica ships its query log; spyware queries among them raise alerts as the platform's own do",
        body: ReplicaQueryBatch,
        response: { 200: z.object({ accepted: z.number().int() }), ...errorResponses },
      },
    },
    (request) => {
      netguard.checkReplica(request.headers.authorization);
      return netguard.ingestReplicaQueries(request.body);
    },
  );
}
