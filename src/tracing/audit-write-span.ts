import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions'
import type { FastifyRequest } from 'fastify'
import type { AuditEntry } from '../audit/audit-entry.ts'
import { requestTraceContext } from './request-trace.ts'

/**
 * One audit write as a child span of the request: `audit intent` before the platform call,
 * `audit result` once the request ended. Only ids and the outcome are attributes: never the
 * entry's actor, idempotency key or anything the client sent.
 */
export async function traceAuditWrite<T> (tracer: Tracer, request: FastifyRequest, kind: 'intent' | 'result', entry: AuditEntry, write: () => Promise<T>): Promise<T> {
  const span = tracer.startSpan(`audit ${kind}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'livecut.audit.entry_id': entry.id,
      'livecut.audit.outcome': entry.outcome,
      ...(entry.reason === null ? {} : { 'livecut.audit.reason': entry.reason })
    }
  }, requestTraceContext(request))
  try {
    return await write()
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR })
    span.setAttribute(ATTR_ERROR_TYPE, (error as Error | null)?.name ?? 'Error')
    throw error
  } finally {
    span.end()
  }
}
