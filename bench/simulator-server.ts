/**
 * The platform simulator as a benchmark child: no faults, no latency, no call recording.
 * Environment: BENCH_PLATFORM_KEY. Answers `stopped` with how many of the given video ids
 * it has stopped, so the parent can check that the load really cut videos.
 */
import { startSimulator } from '../src/simulator/server.ts'
import { serveParent } from './processes.ts'

const key = process.env.BENCH_PLATFORM_KEY
if (key === undefined || key === '') throw new Error('BENCH_PLATFORM_KEY is required')

const simulator = await startSimulator({ apiKeys: [key], recordCalls: false, port: 0 })
serveParent(simulator.url, simulator.close, {
  stopped: (message) => {
    const { projectId, prefix, count } = message as unknown as { projectId: string, prefix: string, count: number }
    let stopped = 0
    for (let n = 0; n < count; n++) if (simulator.app.simulator.isStopped(projectId, `${prefix}${n}`)) stopped++
    return { stopped }
  }
})
