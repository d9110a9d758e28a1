import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { Tracer } from '@opentelemetry/api'
import { ATTR_URL_PATH } from '@opentelemetry/semantic-conventions'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Tracing } from './create-tracing.ts'
import { traceIdOf } from './request-trace.ts'

declare module 'fastify' {
  interface FastifyInstance {
    tracer: Tracer
  }
}

/** Probes and scrapes are not traced: they would drown the traces of cuts. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics'])
const pathOf = (url: string): string => url.split('?', 1)[0] as string

/**
 * A server span per request (@fastify/otel), continuing the caller's `traceparent`; the
 * request's log lines carry its `traceId`. No spans for each hook and handler: the request,
 * the audit writes and the platform attempts are the ones that say where time went.
 */
async function tracingPlugin (fastify: FastifyInstance, { tracing }: { tracing: Tracing }): Promise<void> {
  const instrumentation = new FastifyOtelInstrumentation({
    instrumentHooks: false,
    instrumentHandler: false,
    // An exception event carries a message and a stack: nothing an operator needs from a span.
    recordExceptions: false,
    ignorePaths: ({ url }) => UNTRACED_PATHS.has(pathOf(url)),
    // url.path is the path alone (semantic conventions); the query string is not recorded.
    requestHook: (span, request) => { span.setAttribute(ATTR_URL_PATH, pathOf(request.url)) }
  })
  instrumentation.setTracerProvider(tracing.provider)
  await fastify.register(instrumentation.plugin())
  fastify.decorate('tracer', tracing.tracer)
  fastify.addHook('onRequest', async (request) => {
    const traceId = traceIdOf(request)
    if (traceId !== null) request.log = request.log.child({ traceId })
  })
  fastify.addHook('onClose', async () => { await tracing.shutdown() })
}

export default fp(tracingPlugin, { name: 'tracing', fastify: '5.x' })
