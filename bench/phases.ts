/** The measured phases: the store and commit probes, loading one target, the review API at scale. */
import { encodeCursor } from '../src/audit/audit-query.ts'
import { type AppendProbe, probePostgresCommit, probeSqliteAppend, probeSqliteCommit } from './commit-probe.ts'
import { loadProblem, runLoad, runPaced, type LatencySummary, type LoadResult } from './load.ts'
import type { TargetName } from './options.ts'
import { cpuSeconds, machineBusySeconds, peakRssMiB, postgresCpuSeconds, type ServerProcess, unpin } from './processes.ts'
import type { ProfileSummary } from './profile-summary.ts'
import { measureReviewQueries, randomPicker, type ReviewQueryResult } from './review-queries.ts'
import { type ExportResult, measureExports } from './export-measure.ts'
import { fixed, medianBy } from './report.ts'
import { projectName, SEED_PROJECTS, SEED_SUBJECTS, SEED_VIDEOS, subjectName, videoName } from './seed-history.ts'
import { measureVerification, type VerificationResult } from './verify-phase.ts'
import { type Context, placeFor, postgresProblem, PROJECT, type Server, startTarget, trailHeadSeq, type TrailPlace } from './targets.ts'

interface CpuUse {
  /** Percent of one CPU over the measured run. */
  server: number | null
  simulator: number | null
  loadGenerator: number
  postgres: number | null
  /** Everything else the machine ran meanwhile (other users' work): noise when it is not near 0. */
  other: number | null
}

export interface PhaseResult extends LoadResult {
  /** Videos the simulator says were stopped by this phase's requests. */
  cutsAtPlatform: number
  cpuPercent: CpuUse
  problem: string | null
}

export interface TargetResult {
  name: TargetName
  description: string
  skipped?: string
  /** The median of `saturatedRounds` by requests per second. */
  saturated?: PhaseResult
  saturatedRounds?: PhaseResult[]
  /** The median of `fixedRateRounds` by p99 latency. */
  fixedRate?: PhaseResult
  fixedRateRounds?: PhaseResult[]
  peakRssMiB?: number | null
  auditedSucceeded?: number
  auditQueries?: AuditQueryResult[]
  /** Every filter combination straight on the database, with the plan each used. */
  reviewCombinations?: ReviewQueryResult[]
  /** NDJSON and CSV exports over HTTP: time to the first byte, rows per second. */
  exports?: ExportResult[]
  verification?: VerificationResult
  profile?: { file: string, summary: ProfileSummary }
}

function describe (target: TargetName, trail: TrailPlace | null): string {
  if (target === 'direct') return 'the simulator\'s stop-and-cut endpoint'
  if (target === 'bare') return 'Fastify + @fastify/reply-from pass-through'
  return `livecut-bff, ${trail?.description ?? ''}`
}

function requestFor (ctx: Context, target: TargetName): { path: (prefix: string) => (n: number) => string, headers: Record<string, string>, body: string } {
  const platformBody = JSON.stringify({ fromMilisecond: 600000, toMilisecond: 900000, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 1 })
  const json = { 'content-type': 'application/json' }
  if (target === 'direct') {
    return {
      path: (prefix) => (n) => `/api/v2/${PROJECT}/live-videos/${prefix}${n}/stop-and-cut`,
      headers: { ...json, authorization: `Bearer ${ctx.platformKey}` },
      body: platformBody
    }
  }
  const path = (prefix: string) => (n: number) => `/v1/projects/${PROJECT}/live-videos/${prefix}${n}/cut`
  // The bare proxy forwards the body as it is, so it gets the platform's; it drops the token.
  if (target === 'bare') return { path, headers: { ...json, authorization: `Bearer ${ctx.cutToken}` }, body: platformBody }
  return { path, headers: { ...json, authorization: `Bearer ${ctx.cutToken}` }, body: JSON.stringify({ startMs: 600000, endMs: 900000, visibility: 'public' }) }
}

export async function loadPhase (ctx: Context, target: TargetName, server: ServerProcess, phase: string, seconds: number, rate?: number): Promise<PhaseResult> {
  const prefix = `${ctx.runTag}-${target}-${phase}-`
  const request = requestFor(ctx, target)
  const pids = { server: server.pid, simulator: ctx.simulator.pid }
  const before = { server: cpuSeconds(pids.server), simulator: cpuSeconds(pids.simulator), self: process.cpuUsage(), postgres: postgresCpuSeconds(), machine: machineBusySeconds() }
  const startedAt = performance.now()
  const spec = { url: server.url, connections: ctx.options.connections, durationSeconds: seconds, method: 'POST' as const, headers: request.headers, body: request.body, path: request.path(prefix) }
  const result = rate === undefined ? await runLoad(spec) : await runPaced({ ...spec, rate })
  const elapsed = (performance.now() - startedAt) / 1000
  const percent = (used: number | null, was: number | null): number | null => used === null || was === null ? null : Math.round((used - was) / elapsed * 100)
  const self = process.cpuUsage(before.self)
  const serverPercent = percent(cpuSeconds(pids.server), before.server)
  const simulatorPercent = target === 'direct' ? null : percent(cpuSeconds(pids.simulator), before.simulator)
  const loadGenerator = Math.round((self.user + self.system) / 1e6 / elapsed * 100)
  const postgres = target.includes('postgres') ? percent(postgresCpuSeconds(), before.postgres) : null
  const machinePercent = percent(machineBusySeconds(), before.machine)
  const cpuPercent: CpuUse = {
    server: serverPercent,
    simulator: simulatorPercent,
    loadGenerator,
    postgres,
    other: machinePercent === null ? null : Math.max(0, machinePercent - (serverPercent ?? 0) - (simulatorPercent ?? 0) - loadGenerator - (postgres ?? 0))
  }
  const { stopped } = await ctx.simulator.ask('stopped', { projectId: PROJECT, prefix, count: result.issued }) as unknown as { stopped: number }
  let problem = loadProblem(result)
  const ok = result.statusCodes['200'] ?? 0
  if (problem === null && stopped < ok) problem = `${ok} answers 200 but the platform stopped only ${stopped} videos`
  return { ...result, cutsAtPlatform: stopped, cpuPercent, problem }
}

/** Per filter combination (64 of them) on the seeded trail: at most this many first pages (`--queries` caps it), each followed this deep. */
const REVIEW_COMBINATION_QUERIES = 30
const REVIEW_COMBINATION_PAGES = 5

interface AuditQueryResult {
  kind: string
  example: string
  queries: number
  latencyMs: LatencySummary
  /** From a sample of the same queries: how many items a page held, on average. */
  meanItems: number
  problem: string | null
}

/** Paths of `count` queries of each kind, drawn like the seeded history (deterministic). */
function auditQueryPaths (count: number, headSeq: number): Array<{ kind: string, paths: string[] }> {
  const pick = randomPicker()
  const make = (build: () => string): string[] => Array.from({ length: count }, build)
  const base = '/v1/audit/events?limit=50'
  return [
    { kind: 'by project', paths: make(() => `${base}&projectId=${projectName(pick(SEED_PROJECTS))}`) },
    { kind: 'by video', paths: make(() => `${base}&videoId=${videoName(pick(SEED_VIDEOS))}`) },
    { kind: 'by actor', paths: make(() => `${base}&actor=${subjectName(pick(SEED_SUBJECTS))}`) },
    {
      kind: 'by project, cursor page at a random depth',
      paths: make(() => `${base}&projectId=${projectName(pick(SEED_PROJECTS))}&cursor=${encodeCursor(1 + pick(headSeq))}`)
    },
    { kind: 'by actor and outcome', paths: make(() => `${base}&actor=${subjectName(pick(SEED_SUBJECTS))}&outcome=failed`) }
  ]
}

async function measureAuditQueries (ctx: Context, server: ServerProcess, headSeq: number): Promise<AuditQueryResult[]> {
  const headers = { authorization: `Bearer ${ctx.auditToken}` }
  const results: AuditQueryResult[] = []
  const warm = Math.min(100, ctx.options.queries)
  for (const { kind, paths } of auditQueryPaths(ctx.options.queries + warm, headSeq)) {
    // A sample, read in full: the queries return what they should.
    let items = 0
    const sample = paths.slice(0, 20)
    for (const path of sample) {
      const response = await fetch(`${server.url}${path}`, { headers })
      if (response.status !== 200) throw new Error(`${kind}: ${path} answered ${response.status}: ${await response.text()}`)
      items += ((await response.json()) as { items: unknown[] }).items.length
    }
    // One connection: the latency of a query, not of a queue of them.
    await runLoad({ url: server.url, connections: 1, amount: warm, method: 'GET', headers, path: (n) => paths[n] as string })
    const measured = await runLoad({ url: server.url, connections: 1, amount: ctx.options.queries, method: 'GET', headers, path: (n) => paths[warm + n] as string })
    results.push({ kind, example: paths[warm] as string, queries: measured.responses, latencyMs: measured.latencyMs, meanItems: Math.round(items / sample.length * 10) / 10, problem: loadProblem(measured) })
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// The phases in order.

export interface StoreProbes {
  commitMs: { sqlite: LatencySummary, postgres?: LatencySummary | string }
  appendProbes: AppendProbe[]
}

/** Before the targets: the floor under an audited cut (two durable commits in a row), and the SQLite store alone. */
export async function probeStores (ctx: Context): Promise<StoreProbes> {
  const { options, log, runDir } = ctx
  const commitMs: StoreProbes['commitMs'] = { sqlite: probeSqliteCommit(runDir) }
  log(`durable commit (one row, WAL + synchronous=FULL): SQLite p50 ${fixed(commitMs.sqlite.p50)} ms, p99 ${fixed(commitMs.sqlite.p99)} ms`)
  if (options.targets.some((target) => target.includes('postgres'))) {
    const missing = await postgresProblem(options.pgUrl)
    commitMs.postgres = missing ?? await probePostgresCommit(options.pgUrl, `bench_probe_${ctx.runTag}_${process.pid}`)
    if (typeof commitMs.postgres !== 'string') log(`durable commit (one-row INSERT, autocommit, round trip included): PostgreSQL p50 ${fixed(commitMs.postgres.p50)} ms, p99 ${fixed(commitMs.postgres.p99)} ms`)
  }
  const appendProbes: AppendProbe[] = []
  if (options.probeEntries > 0) {
    for (const ids of ['v7', 'v4'] as const) {
      // The floor beside the service's own ids: the same rows inserted raw, in the same run.
      const probe = await probeSqliteAppend(runDir, options.probeEntries, ids, { floor: ids === 'v7' })
      appendProbes.push(probe)
      log(`audit store alone (SQLite, 50 appenders, ${probe.entries} entries of intent + final), ${ids === 'v7' ? 'time-ordered ids (v7, as the service)' : 'random ids (v4)'}: ${Math.round(probe.entriesPerSecond)} entries/s, ${Math.round(probe.cpuMicrosPerEntry)} µs CPU per entry`)
      const { floor } = probe
      if (floor !== undefined) log(`  floor: raw INSERT of the same ${floor.records} rows, ${floor.recordsPerTransaction} a transaction: ${Math.round(floor.cpuMicrosPerEntry)} µs CPU per entry; the store costs ${fixed(floor.ratio)}× the floor`)
    }
  }
  return { commitMs, appendProbes }
}

/** Saturation: each target in turn, as fast as it answers; with --rounds, again and again. Starts the targets. */
export async function saturate (ctx: Context, servers: Map<TargetName, Server>, results: TargetResult[]): Promise<void> {
  const { options, log } = ctx
  const postgresMissing = options.targets.some((t) => t.includes('postgres')) ? await postgresProblem(options.pgUrl) : null
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) log(`\nround ${round} of ${options.rounds}`)
    for (const target of options.targets) {
      if (round === 1 && target.includes('postgres') && postgresMissing !== null) {
        log(`\n${target}: skipped — ${postgresMissing}`)
        results.push({ name: target, description: describe(target, null), skipped: postgresMissing })
        continue
      }
      let server = servers.get(target)
      let result = results.find((r) => r.name === target)
      if (server === undefined || result === undefined) {
        if (round > 1) continue
        log(`\n${target}: starting`)
        server = target === 'direct' ? { process: ctx.simulator, profileDir: null, trail: null } : await startTarget(ctx, target)
        servers.set(target, server)
        result = { name: target, description: describe(target, server.trail), saturatedRounds: [] }
        results.push(result)
      } else {
        log(`${target}:`)
      }
      placeFor(ctx, server.process)
      if (round === 1 && options.warmup > 0) {
        const warm = await loadPhase(ctx, target, server.process, 'warmup', options.warmup)
        if (warm.problem !== null) log(`  warm-up: ${warm.problem}`)
      }
      const s = await loadPhase(ctx, target, server.process, `saturated${round}`, options.duration)
      result.saturatedRounds?.push(s)
      log(`  ${s.requestsPerSecond} req/s, p50 ${fixed(s.latencyMs.p50)} ms, p99 ${fixed(s.latencyMs.p99)} ms, ${s.cutsAtPlatform} cuts at the platform${s.problem === null ? '' : ` — FAILED: ${s.problem}`}`)
      if (round === 1 && target.endsWith('-seeded') && server.trail !== null) {
        const head = await trailHeadSeq(server.trail)
        log(`  review API on ${head.toLocaleString('en')} records: ${options.queries} queries of each kind, one at a time`)
        result.auditQueries = await measureAuditQueries(ctx, server.process, head)
        for (const q of result.auditQueries) log(`    ${q.kind}: p50 ${fixed(q.latencyMs.p50)} ms, p99 ${fixed(q.latencyMs.p99)} ms (${q.meanItems} items a page)${q.problem === null ? '' : ` — FAILED: ${q.problem}`}`)
        const combinationQueries = Math.min(options.queries, REVIEW_COMBINATION_QUERIES)
        log(`  every filter combination on the database: ${combinationQueries} queries of each, ${REVIEW_COMBINATION_PAGES} pages deep`)
        result.reviewCombinations = await measureReviewQueries(server.trail.url, options.entries, combinationQueries, REVIEW_COMBINATION_PAGES, (line) => { log(`  ${line}`) })
        log('  exports over HTTP, one at a time')
        result.exports = await measureExports(server.process.url, ctx.auditToken, log)
        const seeded = server
        result.verification = await measureVerification({
          trailUrl: server.trail.url,
          serverUrl: server.process.url,
          auditToken: ctx.auditToken,
          signingKeyPem: ctx.signingKeyPem,
          paced: async (phase, seconds, rate) => await loadPhase(ctx, target, seeded.process, phase, seconds, rate),
          rate: Math.max(1, Math.floor(s.requestsPerSecond / 2)),
          seconds: options.duration,
          unpinned: async (work) => {
            unpin(seeded.process.pid)
            try {
              return await work()
            } finally {
              placeFor(ctx, seeded.process)
            }
          },
          log
        })
      }
    }
  }
  for (const result of results) {
    if (result.saturatedRounds !== undefined) result.saturated = medianBy(result.saturatedRounds, (run) => run.requestsPerSecond)
  }
}

/** Latency at the same load for every target started by `saturate`. */
export async function loadAtFixedRate (ctx: Context, servers: Map<TargetName, Server>, results: TargetResult[]): Promise<void> {
  const { options, log } = ctx
  const livecutRates = results.filter((r) => r.name.startsWith('livecut') && r.saturated !== undefined).map((r) => (r.saturated as PhaseResult).requestsPerSecond)
  const rate = options.rate === 'off' || options.profile
    ? null
    : options.rate === 'auto'
      ? Math.max(1, Math.floor(Math.min(...(livecutRates.length > 0 ? livecutRates : results.map((r) => r.saturated?.requestsPerSecond ?? 0))) / 2))
      : options.rate
  if (rate === null || !Number.isFinite(rate)) return
  log(`\nfixed rate: every target at ${rate} req/s`)
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) log(`round ${round} of ${options.rounds}`)
    for (const result of results) {
      const server = servers.get(result.name)
      if (server === undefined) continue
      placeFor(ctx, server.process)
      const f = await loadPhase(ctx, result.name, server.process, `rate${round}`, options.duration, rate)
      result.fixedRateRounds = [...(result.fixedRateRounds ?? []), f]
      log(`  ${result.name}: p50 ${fixed(f.latencyMs.p50)} ms, p99 ${fixed(f.latencyMs.p99)} ms${f.problem === null ? '' : ` — FAILED: ${f.problem}`}`)
    }
  }
  for (const result of results) {
    if (result.fixedRateRounds !== undefined) result.fixedRate = medianBy(result.fixedRateRounds, (run) => run.latencyMs.p99)
  }
}

/** After the load, while the servers still run: their peak memory, and what their trails recorded. */
export async function collectTotals (servers: Map<TargetName, Server>, results: TargetResult[]): Promise<void> {
  for (const result of results) {
    const server = servers.get(result.name)
    if (server === undefined) continue
    result.peakRssMiB = peakRssMiB(server.process.pid)
    if (server.trail !== null) result.auditedSucceeded = await server.trail.countSucceeded()
  }
}
