/** Soak: memory after a long sustained run against memory after 10 s. */
import { setTimeout as sleep } from 'node:timers/promises'
import { peakRssMiB, rssMiB } from './processes.ts'
import type { TargetName } from './options.ts'
import { loadPhase } from './phases.ts'
import { fixed, table } from './report.ts'
import { type Context, placeFor, type Server, startTarget } from './targets.ts'

interface MemorySample { seconds: number, rssMiB: number | null, heapUsedMiB?: number, heapTotalMiB?: number, externalMiB?: number, afterGc?: boolean }

export async function runSoak (ctx: Context, servers: Map<TargetName, Server>) {
  const { options } = ctx
  const target: TargetName = 'livecut-sqlite'
  ctx.log(`\nsoak: ${target}, ${options.connections} connections, ${options.soakSeconds} s`)
  const server = await startTarget(ctx, target)
  servers.set(target, server)
  placeFor(ctx, server.process)
  if (options.warmup > 0) await loadPhase(ctx, target, server.process, 'warmup', options.warmup)
  const samples: MemorySample[] = []
  const snapshot = async (seconds: number): Promise<MemorySample> => {
    const memory = await server.process.ask('memory') as unknown as { heapUsedMiB: number, heapTotalMiB: number, externalMiB: number, rssMiB: number, afterGc: boolean }
    const sample = { seconds, rssMiB: memory.rssMiB, heapUsedMiB: memory.heapUsedMiB, heapTotalMiB: memory.heapTotalMiB, externalMiB: memory.externalMiB, afterGc: memory.afterGc }
    samples.push(sample)
    ctx.log(`  ${seconds} s: RSS ${fixed(sample.rssMiB, 1)} MiB, V8 heap ${fixed(sample.heapTotalMiB, 1)} MiB of which used after GC ${fixed(sample.heapUsedMiB, 1)} MiB, external ${fixed(sample.externalMiB, 1)} MiB`)
    return sample
  }
  const startedAt = performance.now()
  const elapsed = (): number => Math.round((performance.now() - startedAt) / 1000)
  const rssSeries: Array<{ seconds: number, rssMiB: number | null }> = []
  const sampler = setInterval(() => { rssSeries.push({ seconds: elapsed(), rssMiB: rssMiB(server.process.pid) }) }, 5000)
  const running = loadPhase(ctx, target, server.process, 'soak', options.soakSeconds)
  // Both under load, so that they compare: after 10 s, and a few seconds before the end.
  await sleep(10_000)
  const at10 = await snapshot(elapsed())
  await sleep(Math.max(0, options.soakSeconds * 1000 - 3000 - (performance.now() - startedAt)))
  const atEnd = await snapshot(elapsed())
  const run = await running
  clearInterval(sampler)
  const idle = await snapshot(elapsed())
  const result = {
    target,
    seconds: options.soakSeconds,
    connections: options.connections,
    run,
    at10s: at10,
    atEnd,
    idleAfterRun: idle,
    rssSeries,
    peakRssMiB: peakRssMiB(server.process.pid),
    growthMiB: {
      rss: at10.rssMiB !== null && atEnd.rssMiB !== null ? Math.round((atEnd.rssMiB - at10.rssMiB) * 10) / 10 : null,
      heapUsedAfterGc: at10.heapUsedMiB !== undefined && atEnd.heapUsedMiB !== undefined ? Math.round((atEnd.heapUsedMiB - at10.heapUsedMiB) * 10) / 10 : null
    }
  }
  ctx.log(`\nsoak: ${run.responses} requests, ${run.requestsPerSecond} req/s, p99 ${fixed(run.latencyMs.p99)} ms${run.problem === null ? '' : ` — FAILED: ${run.problem}`}`)
  ctx.log(table(['memory', `after ${at10.seconds} s`, `after ${atEnd.seconds} s`, 'growth'], [
    ['RSS MiB', fixed(at10.rssMiB, 1), fixed(atEnd.rssMiB, 1), fixed(result.growthMiB.rss, 1)],
    ['heap used after GC MiB', fixed(at10.heapUsedMiB, 1), fixed(atEnd.heapUsedMiB, 1), fixed(result.growthMiB.heapUsedAfterGc, 1)]
  ]))
  ctx.log(`peak RSS ${fixed(result.peakRssMiB, 1)} MiB; RSS every 5 s: ${rssSeries.map((s) => fixed(s.rssMiB, 0)).join(' ')}`)
  return result
}
