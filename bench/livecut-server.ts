/**
 * livecut-bff as a benchmark child, built exactly as the server builds it: `loadConfig` from
 * the environment the parent prepared, then `buildApp`. Answers `memory` with its memory use
 * after a full garbage collection when started with --expose-gc.
 */
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { serveParent } from './processes.ts'

const { config } = loadConfig(process.env)
const app = await buildApp(config)
const url = await app.listen({ host: '127.0.0.1', port: 0 })
serveParent(url, async () => { await app.close() }, {
  memory: () => {
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc !== undefined) gc()
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
    const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024 * 10) / 10
    return { afterGc: gc !== undefined, rssMiB: mib(rss), heapUsedMiB: mib(heapUsed), heapTotalMiB: mib(heapTotal), externalMiB: mib(external), arrayBuffersMiB: mib(arrayBuffers) }
  }
})
