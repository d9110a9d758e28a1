import { context, propagation, trace, type Tracer, type TracerProvider } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { TracingConfig } from '../config/load-config.ts'

/** Instrumentation scope of the service's own spans. */
export const TRACER_NAME = 'livecut-bff'

export interface Tracing {
  provider: TracerProvider
  tracer: Tracer
  /** Flushes what is still queued for export and stops the processor. */
  shutdown: () => Promise<void>
}

let propagationRegistered = false

/**
 * W3C trace context in and out, and context carried across awaits: process-wide, registered
 * once, and on whether or not anything is recorded, so a `traceparent` always goes through.
 */
function registerPropagation (): void {
  if (propagationRegistered) return
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  propagationRegistered = true
}

/**
 * This app's tracer provider, never the global one, so that several apps in one process (tests,
 * the benchmark) each export to their own processor. With a processor, spans are recorded
 * unless the caller's `traceparent` says it does not sample; without one, ids are still made
 * (a trace starts and reaches the platform and the log) but nothing is recorded. Disabled: the
 * API's no-op tracer, which passes an incoming trace context on and starts none.
 */
export function createTracing (config: TracingConfig, spanProcessor: SpanProcessor | undefined): Tracing {
  registerPropagation()
  if (config.disabled) {
    const provider = trace.getTracerProvider()
    return { provider, tracer: provider.getTracer(TRACER_NAME), shutdown: async () => { await spanProcessor?.shutdown() } }
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: spanProcessor === undefined ? new AlwaysOffSampler() : new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: spanProcessor === undefined ? [] : [spanProcessor]
  })
  return { provider, tracer: provider.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() }
}
