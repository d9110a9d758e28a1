import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DestinationStream } from 'pino'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import secureJson from 'secure-json-parse'
import type { Config } from './config/load-config.ts'
import { createLogger } from './logging/create-logger.ts'
import { scrubberFor } from './security/secret-scrubber.ts'
import { createValidatorCompiler } from './validation/validator-compiler.ts'
import { ProblemError } from './problems/problem-error.ts'
import { sendNotFound, sendProblem } from './problems/send-problem.ts'
import { toProblem } from './problems/to-problem.ts'
import { ProblemSchema } from './schemas/common.ts'
import { AuditEntrySchema } from './audit/audit-entry.ts'
import { AuditCheckpointSchema } from './schemas/audit.ts'
import securityHeadersPlugin from './plugins/security-headers-plugin.ts'
import openApiPlugin from './plugins/openapi-plugin.ts'
import metricsPlugin from './plugins/metrics-plugin.ts'
import authPlugin from './auth/auth-plugin.ts'
import auditStorePlugin from './plugins/audit-store-plugin.ts'
import stopAndCutClientPlugin from './plugins/stop-and-cut-client-plugin.ts'
import cutAuditPlugin from './plugins/cut-audit-plugin.ts'
import sharedStatePlugin from './plugins/shared-state-plugin.ts'
import rateLimitPlugin from './plugins/rate-limit-plugin.ts'
import type { StopAndCutClientDeps } from './upstream/stop-and-cut-client.ts'
import type { CheckpointClock } from './audit/checkpoint-schedule.ts'
import cutRoute from './routes/cut/cut-route.ts'
import { isCutUrl } from './routes/cut/cut-path.ts'
import { newCutState } from './routes/cut/cut-state.ts'
import auditRoutes from './routes/audit/audit-routes.ts'
import resolutionRoute from './routes/audit/resolution-route.ts'
import verifyRoute from './routes/audit/verify-route.ts'
import healthRoutes from './routes/ops/health-routes.ts'
import consolePlugin from './console/console-plugin.ts'
import { createTracing } from './tracing/create-tracing.ts'
import tracingPlugin from './tracing/tracing-plugin.ts'

export interface BuildOptions {
  /** Where log lines go (default stdout); tests capture them here. */
  logDestination?: DestinationStream
  /**
   * The one clock (ms) of the platform client's deadline, the circuit breaker, the retry budget,
   * the in-memory idempotency store and video lock, the JWKS cool-down and the Redis quarantine
   * (default `Date.now`): tests move it instead of waiting.
   */
  now?: () => number
  /** Sleep and randomness of the platform client's retries, for tests that must not wait. */
  upstreamDeps?: Pick<StopAndCutClientDeps, 'sleep' | 'random'>
  /** Where spans go: OTLP in the server (src/tracing/otlp-span-processor.ts), memory in tests; none records nothing. */
  spanProcessor?: SpanProcessor
  /** Clock and timer of the audit checkpoint schedule, for tests that fire it by hand. */
  checkpointClock?: CheckpointClock
}

// A client's request id is kept when it is sane; otherwise one is generated.
const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/
function requestIdOf (request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** The whole service as one Fastify instance: the server, the tests, the demo and the benchmark all build it here. */
export async function buildApp (config: Config, options: BuildOptions = {}) {
  // One scrubber for log lines and for what the platform says (answers, replays, the trail).
  const scrubber = scrubberFor(config)
  const app = Fastify({
    loggerInstance: createLogger(config, scrubber, options.logDestination) as FastifyBaseLogger,
    // One line per request, written by the onResponse hook below with what an operator needs.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: config.trustProxy,
    // Slow clients must not hold a connection (and an in-flight lock) open forever.
    requestTimeout: 60_000,
    // Over-long ids must reach the cut route (a 400, audited), not the router's bare 414.
    routerOptions: { maxParamLength: 8192 },
    // A URL that cannot be decoded never reaches a route: answer it as a problem here, and
    // audit it when it was meant for the cut route.
    frameworkErrors: (_error, request, reply) => {
      const problem = new ProblemError('validation', 'The URL is not valid: a path segment is not correctly percent-encoded.',
        { errors: [{ field: '', in: 'path', message: 'is not correctly percent-encoded' }] })
      reply.header('x-request-id', request.id)
      const toCutRoute = request.method === 'POST' && isCutUrl(request.url)
      const audited = toCutRoute ? app.cutAuditRecorder.recordRejection(request, newCutState(), problem) : Promise.resolve(true)
      void audited.then(() => sendProblem(reply, request, problem))
    }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.addSchema(ProblemSchema)
  app.addSchema(AuditEntrySchema)
  app.addSchema(AuditCheckpointSchema)

  // JSON is the only body this service takes (anything else is 415): an empty one is absent
  // (the cut route reads it as {}), and prototype poisoning is refused.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined)
    try {
      done(null, secureJson.parse(body as string, { protoAction: 'error', constructorAction: 'error' }))
    } catch {
      // Like every 400, it names what is wrong: the body as a whole.
      done(new ProblemError('malformed_json', 'The body could not be parsed as JSON.', { errors: [{ field: '', in: 'body', message: 'is not valid JSON' }] }), undefined)
    }
  })

  app.addHook('onRequest', async (request, reply) => { reply.header('x-request-id', request.id) })
  // While shutting down, a keep-alive connection whose request finishes is closed with it, so
  // the process can exit once the in-flight cuts are done.
  app.addHook('onSend', async (_request, reply) => {
    if (!app.server.listening) reply.header('connection', 'close')
  })
  app.addHook('onResponse', async (request, reply) => {
    const params = request.params as Record<string, string | undefined> | undefined
    request.log.info({
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      sub: (request.user as FastifyRequest['user'] | undefined)?.sub,
      projectId: params?.projectId?.slice(0, 128),
      videoId: params?.videoId?.slice(0, 128),
      durationMs: Math.round(reply.elapsedTime)
    }, 'request completed')
  })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    if (problem.code === 'internal') request.log.error({ err: error }, 'unexpected error')
    else if (problem.code === 'audit_unavailable') request.log.error({ err: error }, 'audit: the store could not be read')
    return sendProblem(reply, request, problem)
  })
  app.setNotFoundHandler(sendNotFound)

  // First: its server span and trace context must wrap every route registered after it.
  await app.register(tracingPlugin, { tracing: createTracing(config.tracing, options.spanProcessor) })
  await app.register(securityHeadersPlugin)
  await app.register(openApiPlugin, { docsEnabled: config.docsEnabled })
  await app.register(metricsPlugin, { separatePort: config.metricsPort !== null })
  const now = options.now ?? Date.now
  await app.register(authPlugin, { jwt: config.jwt, now })
  await app.register(auditStorePlugin, { url: config.auditStoreUrl, checkpoints: config.auditCheckpoints, clock: options.checkpointClock })
  await app.register(sharedStatePlugin, { redisUrl: config.redisUrl, upstreamDeadlineMs: config.upstream.deadlineMs, now })
  await app.register(rateLimitPlugin, config.rateLimit)
  await app.register(stopAndCutClientPlugin, { upstream: config.upstream, protection: config.protection, now, scrubber, deps: options.upstreamDeps })
  await app.register(cutAuditPlugin)
  await app.register(healthRoutes)
  await app.register(cutRoute, { visibility: config.visibility })
  await app.register(auditRoutes)
  await app.register(verifyRoute)
  await app.register(resolutionRoute)
  if (config.consoleEnabled) await app.register(consolePlugin)
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
