import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config/load-config.ts'
import { otlpSpanProcessor } from './tracing/otlp-span-processor.ts'

/** Process concerns only: configuration from the environment, listen, signals, exit. */
let loaded: ReturnType<typeof loadConfig>
try {
  loaded = loadConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`livecut-bff refuses to start: ${error.message}`)
  process.exit(1)
}
const { config, warnings } = loaded
// Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set; the app flushes them when it closes.
const app = await buildApp(config, { spanProcessor: otlpSpanProcessor(config.tracing) })
for (const warning of warnings) app.log.warn(`DEVELOPMENT DEFAULT: ${warning}`)

// In-flight cuts finish and are audited before the process exits; a second signal exits at once.
closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
  await app.close()
})

await app.listen({ host: config.host, port: config.port })
// A port that cannot be bound fails the start, like the service's own.
if (app.metricsServer !== null) await app.metricsServer.listen({ host: config.host, port: config.metricsPort ?? 0 })
