/**
 * `npm run bench`: livecut-bff side by side with the platform itself and with a bare reverse
 * proxy, on loopback, in one run. See BENCHMARKS.md for the method and `--help` for options.
 *
 * Processes: this one is the load generator (autocannon); the platform simulator, the bare
 * proxy and each livecut-bff are children, so each has its own event loop and its memory and
 * CPU are its own. With `--pin on` (the default on 2+ CPUs) the server under test has CPU 0 to
 * itself and the load generator shares CPU 1 with the simulator (when the simulator is not the
 * server under test).
 *
 * This file runs the phases in order; options.ts reads the command line, targets.ts starts what
 * is measured, phases.ts measures, report.ts prints and writes, soak.ts is the `--soak` run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseOptions, type TargetName } from './options.ts'
import { collectTotals, loadAtFixedRate, probeStores, saturate, type TargetResult } from './phases.ts'
import { pinToCpu } from './processes.ts'
import { keepProfiles, machine, printSummary, problemsOf, ratiosOf } from './report.ts'
import { runSoak } from './soak.ts'
import { createContext, LOAD_CPU, postgresQuery, SERVER_CPU, type Server } from './targets.ts'

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const startedAt = new Date()
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  const runTag = `r${randomBytes(3).toString('hex')}`
  const runDir = join(tmpdir(), `livecut-bench-${stamp}-${process.pid}`)
  mkdirSync(runDir, { recursive: true })
  mkdirSync(options.out, { recursive: true })
  const log = (line: string): void => { console.log(line) }
  const m = machine()
  log(`livecut-bff benchmark — ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}`)

  const placement = options.pin
    ? `server under test pinned to CPU ${SERVER_CPU}; load generator (autocannon, this process) on CPU ${LOAD_CPU}, with the simulator when the simulator is not the server under test; PostgreSQL not pinned`
    : 'no pinning: the OS places every process'
  if (options.pin) pinToCpu(process.pid, LOAD_CPU)
  log(`placement: ${placement}`)
  if (options.livecutImport !== null) log(`livecut-bff runs with --import ${options.livecutImport}`)

  const ctx = await createContext(options, runDir, runTag, log)
  const { commitMs, appendProbes } = await probeStores(ctx)

  const results: TargetResult[] = []
  const servers = new Map<TargetName, Server>()
  let soak: Awaited<ReturnType<typeof runSoak>> | undefined
  try {
    if (options.soak) {
      soak = await runSoak(ctx, servers)
    } else {
      await saturate(ctx, servers, results)
      await loadAtFixedRate(ctx, servers, results)
      await collectTotals(servers, results)
    }
  } finally {
    for (const [name, server] of servers) if (name !== 'direct') await server.process.stop()
    await ctx.simulator.stop()
    if (ctx.otlpSink !== null) {
      // After the servers stopped: closing, the traced one flushed what its batches still held.
      const { exports, bytes } = await ctx.otlpSink.ask('received', {}) as unknown as { exports: number, bytes: number }
      log(`\nOTLP sink: ${exports} exports, ${(bytes / 1024 / 1024).toFixed(1)} MiB of spans from livecut-sqlite-traced`)
      await ctx.otlpSink.stop()
    }
  }
  keepProfiles(results, new Map([...servers].map(([name, server]) => [name, server.profileDir])), options.out, stamp)

  for (const schema of ctx.pgSchemas) await postgresQuery(options.pgUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
  rmSync(runDir, { recursive: true, force: true })

  const problems = problemsOf(results, soak?.run.problem)
  const ratios = ratiosOf(results)
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: m,
    commitMs,
    appendProbes,
    options: { ...options, targets: options.targets },
    placement,
    ok: problems.length === 0,
    problems,
    targets: results,
    ratios,
    ...(soak !== undefined && { soak })
  }
  const outFile = join(options.out, `${stamp}.json`)
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`)

  if (!options.soak) printSummary(log, options, results, ratios)
  log(`\nresults: ${outFile}`)
  if (problems.length > 0) log(`\nTHE RUN DOES NOT COUNT — failing requests:\n  ${problems.join('\n  ')}`)
  process.exitCode = problems.length > 0 ? 1 : 0
}

await main()
