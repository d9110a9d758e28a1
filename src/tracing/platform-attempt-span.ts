import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL
} from '@opentelemetry/semantic-conventions'

// Still incubating in the semantic conventions, so not imported from their package.
const ATTR_URL_TEMPLATE = 'url.template'
const URL_TEMPLATE = '/api/v2/{projectId}/live-videos/{id}/stop-and-cut'

/** How an attempt ended and what the retry policy made of it. */
export interface AttemptEnding {
  /** The platform's status, null when no answer came. */
  status: number | null
  /** Why it failed, when it did: e.g. `not_sent`, `unknown` (timeout, reset after sending). */
  failure: string | null
  decision: 'final' | 'retry' | 'stop'
  /** Why the loop stopped (`max_attempts`, `deadline`, `retry_budget`…). */
  reason?: string
  /** The wait before the next attempt (retry), or the one that did not fit (stop). */
  waitMs?: number
}

export interface AttemptSpan {
  /** Headers that carry this attempt's trace context (`traceparent`) to the platform. */
  headers: Record<string, string>
  end: (ending: AttemptEnding) => void
}

/**
 * A client span around one platform attempt, child of the active context (the request's).
 * Its URL is the platform's path, which holds no key: keys travel in a header only.
 */
export function startAttemptSpan (tracer: Tracer, target: { origin: string, path: string }, attempt: number): AttemptSpan {
  const origin = new URL(target.origin)
  const parent = context.active()
  const span = tracer.startSpan('POST', {
    kind: SpanKind.CLIENT,
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [ATTR_SERVER_ADDRESS]: origin.hostname,
      [ATTR_SERVER_PORT]: Number(origin.port || (origin.protocol === 'https:' ? 443 : 80)),
      [ATTR_URL_FULL]: `${origin.origin}${target.path}`,
      [ATTR_URL_TEMPLATE]: URL_TEMPLATE,
      'livecut.upstream.attempt': attempt,
      ...(attempt > 1 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt - 1 } : {})
    }
  }, parent)
  const headers: Record<string, string> = {}
  propagation.inject(trace.setSpan(parent, span), headers)
  return {
    headers,
    end (ending) {
      if (ending.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ending.status)
      const errorType = ending.status !== null && ending.status >= 400 ? String(ending.status) : ending.failure
      if (errorType !== null) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType)
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.setAttribute('livecut.upstream.retry.decision', ending.decision)
      if (ending.reason !== undefined) span.setAttribute('livecut.upstream.retry.reason', ending.reason)
      if (ending.waitMs !== undefined) span.setAttribute('livecut.upstream.retry.wait_ms', ending.waitMs)
      span.end()
    }
  }
}
