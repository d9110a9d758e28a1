/**
 * livecut-bff as a benchmark child, built exactly as the server builds it: `loadConfig` from
 * the environment the parent prepared, then `buildApp` (with the OTLP exporter when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set).
 */
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { otlpSpanProcessor } from '../src/tracing/otlp-span-processor.ts'
import { serveParent } from './processes.ts'

const { config } = loadConfig(process.env)
const app = await buildApp(config, { spanProcessor: otlpSpanProcessor(config.tracing) })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
serveParent(url, async () => { await app.close() })
