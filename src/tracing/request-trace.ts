import { context, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'

/**
 * The trace context of a request: its server span's, set by @fastify/otel. Asked for
 * explicitly because a route's error handler does not run inside the handler's async context.
 */
export function requestTraceContext (request: FastifyRequest): Context {
  return (typeof request.opentelemetry === 'function' ? request.opentelemetry().context : null) ?? ROOT_CONTEXT
}

/** Runs `fn` with the request's trace context active, so spans it starts are the request's children. */
export function withRequestTrace<T> (request: FastifyRequest, fn: () => T): T {
  return context.with(requestTraceContext(request), fn)
}

/** The request's trace id, or null when it has none. */
export function traceIdOf (request: FastifyRequest): string | null {
  const spanContext = trace.getSpanContext(requestTraceContext(request))
  return spanContext !== undefined && trace.isSpanContextValid(spanContext) ? spanContext.traceId : null
}
