import { writeFileSync } from 'node:fs'
import { buildApp } from './app.ts'
import { loadConfig } from './config/load-config.ts'

/** The OpenAPI document as YAML, from the app built with the default configuration. */
export async function openApiYaml (): Promise<string> {
  const { config } = loadConfig({ NODE_ENV: 'test', AUDIT_STORE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' })
  const app = await buildApp(config)
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}

// `npm run openapi` rewrites the committed openapi.yaml; a test fails when it is stale.
if (import.meta.main) writeFileSync(new URL('../openapi.yaml', import.meta.url), await openApiYaml())
