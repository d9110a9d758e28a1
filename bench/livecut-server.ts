/**
 * livecut-bff as a benchmark child, built exactly as the server builds it: `loadConfig` from
 * the environment the parent prepared, then `buildApp`.
 */
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { serveParent } from './processes.ts'

const { config } = loadConfig(process.env)
const app = await buildApp(config)
const url = await app.listen({ host: '127.0.0.1', port: 0 })
serveParent(url, async () => { await app.close() })
