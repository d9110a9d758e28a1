import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { TracingConfig } from '../config/load-config.ts'

/**
 * Spans batched to the OTLP/HTTP collector at OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` under
 * it, as the variable's definition says), or undefined when none is configured.
 */
export function otlpSpanProcessor (config: TracingConfig): SpanProcessor | undefined {
  if (config.otlpEndpoint === null) return undefined
  const url = new URL('v1/traces', config.otlpEndpoint.endsWith('/') ? config.otlpEndpoint : `${config.otlpEndpoint}/`)
  return new BatchSpanProcessor(new OTLPTraceExporter({ url: url.href }))
}
