/**
 * `npm run bench`: livecut-bff side by side with the platform itself and with a bare reverse
 * proxy, on loopback, in one run. See BENCHMARKS.md for the method and `--help` for options.
 *
 * Processes: this one is the load generator (autocannon); the platform simulator, the bare
 * proxy and each livecut-bff are children, so each has its own event loop and its memory and
 * CPU are its own. With `--pin on` (the default on 2+ CPUs) the server under test has CPU 0 to
 * itself and the load generator shares CPU 1 with the simulator (when the simulator is not the
 * server under test).
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, freemem, hostname, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import { encodeCursor } from '../src/audit/audit-query.ts'
import { loadProblem, runLoad, runPaced, type LatencySummary, type LoadResult } from './load.ts'
import { cpuSeconds, machineBusySeconds, peakRssMiB, pinToCpu, postgresCpuSeconds, rssMiB, startServerProcess, type ServerProcess, unpin } from './processes.ts'
import { type AppendProbe, probePostgresCommit, probeSqliteAppend, probeSqliteCommit, removeSqliteFiles } from './commit-probe.ts'
import { formatProfileSummary, summariseProfile, type CpuProfile, type ProfileSummary } from './profile-summary.ts'
import { measureVerification, type VerificationResult } from './verify-phase.ts'
import { projectName, SEED_PROJECTS, SEED_SUBJECTS, SEED_VIDEOS, seedAuditTrail, subjectName, videoName } from './seed-audit.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const PROJECT = 'proj-bench'
const ISSUER = 'https://idp.bench.local/'
const AUDIENCE = 'livecut-bff'
const SERVER_CPU = 0
const LOAD_CPU = 1

const TARGETS = ['direct', 'bare', 'livecut-sqlite', 'livecut-sqlite-traced', 'livecut-postgres', 'livecut-sqlite-seeded', 'livecut-postgres-seeded'] as const
type TargetName = typeof TARGETS[number]
const ALIASES: Record<string, TargetName> = { sqlite: 'livecut-sqlite', 'sqlite-traced': 'livecut-sqlite-traced', postgres: 'livecut-postgres', 'sqlite-seeded': 'livecut-sqlite-seeded', 'postgres-seeded': 'livecut-postgres-seeded' }

const HELP = `npm run bench -- [options]

  --duration S        seconds of measured load per target (default 10)
  --rounds N          saturate every target N times, in turn (bare and livecut-bff close in time), and load it
                      at the fixed rate N times; the tables show each target's median round (by req/s, by
                      p99), the ratios are the median of each round's ratio (default 3)
  --warmup S          seconds of unmeasured load before it (default 2)
  --connections N     concurrent connections (default 50)
  --rate R|auto|off   also load every target at R requests/s to compare latency at the same load
                      (default auto: half the slowest livecut-bff's saturated rate)
  --only LIST         targets, comma-separated: direct, bare, sqlite, sqlite-traced, postgres, sqlite-seeded, postgres-seeded
                      (default: direct,bare,sqlite,postgres; --growth adds sqlite-seeded)
  --tracing           add sqlite-traced: livecut-bff on SQLite recording every span and exporting it over
                      OTLP/HTTP to a local sink (the other targets record none), compared with sqlite
  --growth            add livecut-bff on a trail of --entries seeded entries, and time review-API queries on it,
                      verification (CLI, HTTP, records/s) and cuts at a fixed rate during three HTTP verifies
  --growth-postgres   the same on PostgreSQL (adds postgres-seeded)
  --entries N         entries in the seeded trail (default 1000000)
  --queries N         measured queries per kind (default 500)
  --probe-entries N   entries the SQLite store alone appends, before the targets, with v7 and with v4 ids (default 20000; 0: none)
  --soak              instead: livecut-bff (SQLite) under load for --soak-seconds, memory at 10 s and at the end
  --soak-seconds S    (default 120)
  --profile           run servers under node --cpu-prof and summarise where their CPU time went
  --pin on|off        pin the server under test to CPU 0, the load generator to CPU 1 (default on)
  --pg-url URL        PostgreSQL for the postgres targets (default postgres://postgres@127.0.0.1:5432/test)
  --log-level L       livecut-bff LOG_LEVEL (default warn)
  --livecut-import F  preload module F into every livecut-bff (node --import), to measure a change before it lands in src/
  --cache DIR         where seeded trails are kept between runs (default ${join(tmpdir(), 'livecut-bench')})
  --out DIR           where results/<timestamp>.json goes (default bench/results)
`

interface Options {
  duration: number
  rounds: number
  warmup: number
  connections: number
  rate: number | 'auto' | 'off'
  targets: TargetName[]
  growth: boolean
  entries: number
  queries: number
  probeEntries: number
  soak: boolean
  soakSeconds: number
  profile: boolean
  pin: boolean
  pgUrl: string
  logLevel: string
  livecutImport: string | null
  cache: string
  out: string
}

function parseOptions (argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      rate: { type: 'string', default: 'auto' },
      only: { type: 'string' },
      growth: { type: 'boolean', default: false },
      tracing: { type: 'boolean', default: false },
      'growth-postgres': { type: 'boolean', default: false },
      entries: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '500' },
      'probe-entries': { type: 'string', default: '20000' },
      soak: { type: 'boolean', default: false },
      'soak-seconds': { type: 'string', default: '120' },
      profile: { type: 'boolean', default: false },
      pin: { type: 'string', default: cpus().length >= 2 ? 'on' : 'off' },
      'pg-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
      'log-level': { type: 'string', default: 'warn' },
      'livecut-import': { type: 'string' },
      cache: { type: 'string', default: join(tmpdir(), 'livecut-bench') },
      out: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const positive = (name: string, text: string, allowZero = false): number => {
    const value = Number(text)
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`--${name} must be a positive number, got ${text}`)
    return value
  }
  const growthTargets: TargetName[] = [...(values.growth ? ['livecut-sqlite-seeded' as const] : []), ...(values['growth-postgres'] ? ['livecut-postgres-seeded' as const] : [])]
  const targets = values.only !== undefined
    ? values.only.split(',').map((name) => name.trim()).filter(Boolean).map((name) => {
      const target = ALIASES[name] ?? name
      if (!(TARGETS as readonly string[]).includes(target)) throw new Error(`--only: unknown target ${name} (known: ${TARGETS.join(', ')})`)
      return target as TargetName
    })
    : ['direct', 'bare', 'livecut-sqlite', ...(values.tracing ? ['livecut-sqlite-traced' as const] : []), 'livecut-postgres', ...growthTargets] as TargetName[]
  const rate = values.rate === 'auto' || values.rate === 'off' ? values.rate : positive('rate', values.rate)
  if (values.pin !== 'on' && values.pin !== 'off') throw new Error('--pin must be on or off')
  return {
    duration: positive('duration', values.duration),
    rounds: Math.round(positive('rounds', values.rounds)),
    warmup: positive('warmup', values.warmup, true),
    connections: Math.round(positive('connections', values.connections)),
    rate,
    targets: TARGETS.filter((target) => targets.includes(target)),
    growth: growthTargets.length > 0 || targets.some((target) => target.endsWith('-seeded')),
    entries: Math.round(positive('entries', values.entries)),
    queries: Math.round(positive('queries', values.queries)),
    probeEntries: Math.round(positive('probe-entries', values['probe-entries'], true)),
    soak: values.soak,
    soakSeconds: positive('soak-seconds', values['soak-seconds']),
    profile: values.profile,
    pin: values.pin === 'on' && cpus().length >= 2,
    pgUrl: values['pg-url'],
    logLevel: values['log-level'],
    livecutImport: values['livecut-import'] === undefined ? null : resolve(values['livecut-import']),
    cache: resolve(values.cache),
    out: resolve(values.out)
  }
}

// ---------------------------------------------------------------------------------------------
// The run's shared pieces: keys, tokens, the simulator, the servers under test.

interface Context {
  options: Options
  runDir: string
  runTag: string
  platformKey: string
  jwtSecret: string
  /** AUDIT_SIGNING_KEY of every livecut-bff (production refuses to start without one). */
  signingKeyPem: string
  cutToken: string
  auditToken: string
  simulator: ServerProcess
  /** The OTLP collector the traced target exports to; started only for it. */
  otlpSink: ServerProcess | null
  pgSchemas: string[]
  log: (line: string) => void
}

function signToken (secret: string, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  return createSigner({ key: secret, algorithm: 'HS256' })({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 6 * 3600, ...claims })
}

async function postgresProblem (url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL is not reachable at ${url} (${(error as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

async function postgresQuery<T> (url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return (await client.query(sql, values)).rows as T[]
  } finally {
    await client.end()
  }
}

function withSchema (url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
}

/** Where a livecut-bff target keeps its trail, and how to count what it recorded. */
interface TrailPlace {
  url: string
  description: string
  countSucceeded: () => Promise<number>
}

async function prepareTrail (ctx: Context, target: TargetName): Promise<TrailPlace> {
  const { options } = ctx
  if (target === 'livecut-sqlite' || target === 'livecut-sqlite-traced' || target === 'livecut-sqlite-seeded') {
    const file = join(ctx.runDir, `${target}.db`)
    let description = target === 'livecut-sqlite-traced' ? 'SQLite, empty, every span exported over OTLP/HTTP to a local sink' : 'SQLite, empty'
    if (target === 'livecut-sqlite-seeded') {
      const seeded = await seededSqlite(ctx)
      ctx.log(`  copying the seeded trail (${options.entries.toLocaleString('en')} entries) for this run…`)
      copyFileSync(seeded, file)
      // On disk before any load: else the kernel writes the copy back meanwhile, and every
      // durable commit of the targets measured next waits behind it.
      const copy = openSync(file, 'r')
      try { fsyncSync(copy) } finally { closeSync(copy) }
      description = `SQLite, ${options.entries.toLocaleString('en')} seeded entries`
    }
    return {
      url: `sqlite:${file}`,
      description,
      countSucceeded: async () => {
        const db = new DatabaseSync(file, { readOnly: true })
        try {
          return Number((db.prepare('SELECT count(*) AS n FROM audit_records WHERE final = 1 AND outcome = \'succeeded\' AND video_id LIKE ?').get(`${ctx.runTag}-%`) as { n: number }).n)
        } finally {
          db.close()
        }
      }
    }
  }
  let schema: string
  let description = 'PostgreSQL, empty'
  if (target === 'livecut-postgres-seeded') {
    schema = await seededPostgres(ctx)
    description = `PostgreSQL, ${options.entries.toLocaleString('en')} seeded entries (plus what earlier runs appended)`
  } else {
    schema = `bench_${ctx.runTag}_${process.pid}`
    ctx.pgSchemas.push(schema)
  }
  return {
    url: withSchema(options.pgUrl, schema),
    description,
    countSucceeded: async () => {
      const [row] = await postgresQuery<{ n: number }>(options.pgUrl,
        `SELECT count(*)::int AS n FROM "${schema}".audit_records WHERE final AND outcome = 'succeeded' AND video_id LIKE $1`, [`${ctx.runTag}-%`])
      return row?.n ?? 0
    }
  }
}

/** The seeded SQLite trail, from the cache or seeded now (kept for later runs). */
async function seededSqlite (ctx: Context): Promise<string> {
  const { entries, cache } = ctx.options
  const file = join(cache, `audit-${entries}-seed1.db`)
  const done = `${file}.complete`
  if (existsSync(done)) return file
  mkdirSync(cache, { recursive: true })
  removeSqliteFiles(file)
  ctx.log(`  seeding ${entries.toLocaleString('en')} entries into ${file} (kept for later runs)…`)
  const result = await seedAuditTrail({ url: `sqlite:${file}`, entries, onProgress: progressLogger(ctx, entries) })
  ctx.log(`  seeded ${result.entries.toLocaleString('en')} entries (${result.records.toLocaleString('en')} records) in ${result.seconds.toFixed(1)} s`)
  writeFileSync(done, JSON.stringify(result))
  return file
}

/** The seeded PostgreSQL schema, reused when a complete one exists. */
async function seededPostgres (ctx: Context): Promise<string> {
  const { entries, pgUrl } = ctx.options
  const schema = `bench_seeded_${entries}`
  const [marker] = await postgresQuery<{ present: boolean }>(pgUrl, 'SELECT to_regclass($1) IS NOT NULL AS present', [`"${schema}".bench_seed_complete`])
  if (marker?.present === true) return schema
  await postgresQuery(pgUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  ctx.log(`  seeding ${entries.toLocaleString('en')} entries into PostgreSQL schema ${schema} (kept for later runs)…`)
  const result = await seedAuditTrail({ url: withSchema(pgUrl, schema), entries, onProgress: progressLogger(ctx, entries) })
  ctx.log(`  seeded ${result.entries.toLocaleString('en')} entries (${result.records.toLocaleString('en')} records) in ${result.seconds.toFixed(1)} s`)
  await postgresQuery(pgUrl, `CREATE TABLE "${schema}".bench_seed_complete AS SELECT $1::text AS result`, [JSON.stringify(result)])
  return schema
}

function progressLogger (ctx: Context, entries: number): (entriesDone: number, records: number) => void {
  let last = performance.now()
  return (entriesDone, records) => {
    if (performance.now() - last < 15_000) return
    last = performance.now()
    ctx.log(`    ${entriesDone.toLocaleString('en')} / ${entries.toLocaleString('en')} entries (${records.toLocaleString('en')} records)`)
  }
}

interface Server {
  process: ServerProcess
  profileDir: string | null
  trail: TrailPlace | null
}

async function startTarget (ctx: Context, target: TargetName): Promise<Server> {
  const { options } = ctx
  const profileDir = options.profile ? join(ctx.runDir, 'profiles', target) : null
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true })
  const execArgv = [
    ...(profileDir !== null ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'] : []),
    ...(options.soak ? ['--expose-gc'] : [])
  ]
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  if (target === 'bare') {
    const child = await startServerProcess('bare proxy', join(BENCH_DIR, 'bare-proxy.ts'), {
      env: { ...base, BENCH_UPSTREAM_URL: ctx.simulator.url, BENCH_PLATFORM_KEY: ctx.platformKey },
      execArgv
    })
    return { process: child, profileDir, trail: null }
  }
  const trail = await prepareTrail(ctx, target)
  const child = await startServerProcess(target, join(BENCH_DIR, 'livecut-server.ts'), {
    execArgv: [...(options.livecutImport !== null ? ['--import', options.livecutImport] : []), ...execArgv],
    // Only what the service reads: nothing leaks in from the shell that runs the benchmark.
    env: {
      ...base,
      NODE_ENV: 'production',
      LOG_LEVEL: options.logLevel,
      UPSTREAM_BASE_URL: ctx.simulator.url,
      UPSTREAM_API_KEY: ctx.platformKey,
      JWT_SECRET: ctx.jwtSecret,
      AUDIT_SIGNING_KEY: ctx.signingKeyPem,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      AUDIT_STORE_URL: trail.url,
      ...(target === 'livecut-sqlite-traced' && ctx.otlpSink !== null ? { OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpSink.url } : {}),
      // Protections out of the way: every request must reach the platform.
      RATE_LIMIT_CUT_MAX: '1000000000',
      RATE_LIMIT_IP_MAX: '1000000000',
      BREAKER_FAILURE_THRESHOLD: '1000000000'
    },
    stdout: options.logLevel === 'silent' || options.logLevel === 'warn' || options.logLevel === 'error' || options.logLevel === 'fatal' ? 'inherit' : 'ignore'
  })
  return { process: child, profileDir, trail }
}

// ---------------------------------------------------------------------------------------------
// Loading one target.

interface CpuUse {
  /** Percent of one CPU over the measured run. */
  server: number | null
  simulator: number | null
  loadGenerator: number
  postgres: number | null
  /** Everything else the machine ran meanwhile (other users' work): noise when it is not near 0. */
  other: number | null
}

interface PhaseResult extends LoadResult {
  /** Videos the simulator says were stopped by this phase's requests. */
  cutsAtPlatform: number
  cpuPercent: CpuUse
  problem: string | null
}

interface TargetResult {
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

async function loadPhase (ctx: Context, target: TargetName, server: ServerProcess, phase: string, seconds: number, rate?: number): Promise<PhaseResult> {
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

// ---------------------------------------------------------------------------------------------
// The review API at scale.

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
  let state = 0x5eed
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
  const pick = (n: number): number => Math.floor(random() * n)
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

async function trailHeadSeq (trail: TrailPlace): Promise<number> {
  if (trail.url.startsWith('sqlite:')) {
    const db = new DatabaseSync(trail.url.slice('sqlite:'.length), { readOnly: true })
    try {
      return Number((db.prepare('SELECT max(seq) AS head FROM audit_records').get() as { head: number }).head)
    } finally {
      db.close()
    }
  }
  const url = new URL(trail.url)
  const schema = url.searchParams.get('schema') as string
  url.searchParams.delete('schema')
  const [row] = await postgresQuery<{ head: string }>(url.toString(), `SELECT max(seq) AS head FROM "${schema}".audit_records`)
  return Number(row?.head ?? 0)
}

// ---------------------------------------------------------------------------------------------
// Output.

const fixed = (value: number | null | undefined, digits = 2): string => value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits)

function table (headings: string[], rows: string[][]): string {
  const widths = headings.map((heading, i) => Math.max(heading.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)).join('  ')
  return [line(headings), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n')
}

function saturatedTable (results: TargetResult[]): string {
  return table(
    ['target', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'errors', 'non-2xx', 'cuts', 'peak RSS MiB', 'CPU% server', 'server CPU µs/req', 'CPU% sim', 'CPU% loadgen', 'CPU% pg', 'CPU% other'],
    results.filter((r) => r.saturated !== undefined).map(({ name, saturated: s, peakRssMiB: rss }) => {
      const run = s as PhaseResult
      return [name, String(run.requestsPerSecond), fixed(run.latencyMs.p50), fixed(run.latencyMs.p97_5), fixed(run.latencyMs.p99),
        String(run.errors), String(run.non2xx), String(run.cutsAtPlatform), fixed(rss, 1), fixed(run.cpuPercent.server, 0),
        run.cpuPercent.server === null || run.requestsPerSecond === 0 ? '-' : String(Math.round(run.cpuPercent.server * 10_000 / run.requestsPerSecond)), fixed(run.cpuPercent.simulator, 0),
        fixed(run.cpuPercent.loadGenerator, 0), fixed(run.cpuPercent.postgres, 0), fixed(run.cpuPercent.other, 0)]
    }))
}

function fixedRateTable (results: TargetResult[], bare: TargetResult | undefined): string {
  return table(
    ['target', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'added p99 vs bare', 'errors', 'non-2xx', 'CPU% server', 'CPU% other'],
    results.filter((r) => r.fixedRate !== undefined).map(({ name, fixedRate: f }) => {
      const run = f as PhaseResult
      const added = bare?.fixedRate !== undefined && name !== 'bare' && name !== 'direct' ? run.latencyMs.p99 - bare.fixedRate.latencyMs.p99 : null
      return [name, String(run.requestsPerSecond), fixed(run.latencyMs.p50), fixed(run.latencyMs.p97_5), fixed(run.latencyMs.p99), added === null ? '' : `${added >= 0 ? '+' : ''}${fixed(added)}`,
        String(run.errors), String(run.non2xx), fixed(run.cpuPercent.server, 0), fixed(run.cpuPercent.other, 0)]
    }))
}

/** Per pair: each round's ratio of saturated rates (the same round of both), and their median. */
interface Ratios { [pair: string]: { median: number, rounds: number[] } }

function ratiosOf (results: TargetResult[]): Ratios {
  const rounds = (name: TargetName): PhaseResult[] => results.find((r) => r.name === name)?.saturatedRounds ?? []
  const ratios: Ratios = {}
  for (const livecut of results.filter((r) => r.name.startsWith('livecut'))) {
    // The traced target is compared with the same target untraced too: what tracing costs.
    for (const reference of livecut.name === 'livecut-sqlite-traced' ? ['bare', 'direct', 'livecut-sqlite'] as const : ['bare', 'direct'] as const) {
      const other = rounds(reference)
      const each = rounds(livecut.name).flatMap((run, i) => {
        const base = other[i]?.requestsPerSecond ?? 0
        return base > 0 ? [Math.round(run.requestsPerSecond / base * 1000) / 1000] : []
      })
      if (each.length > 0) ratios[`${livecut.name} / ${reference}`] = { median: medianBy(each, (ratio) => ratio), rounds: each }
    }
  }
  return ratios
}

/** The middle item by `key` (the lower middle of an even count). */
function medianBy<T> (items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)] as T
}

function machine () {
  const cpuList = cpus()
  return {
    hostname: hostname(),
    nproc: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3 * 10) / 10,
    freeMemoryGiB: Math.round(freemem() / 1024 ** 3 * 10) / 10,
    node: process.version,
    kernel: release()
  }
}

// ---------------------------------------------------------------------------------------------

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

  const platformKey = `bench-platform-${randomBytes(12).toString('hex')}`
  const jwtSecret = randomBytes(32).toString('base64url')
  const simulator = await startServerProcess('simulator', join(BENCH_DIR, 'simulator-server.ts'), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BENCH_PLATFORM_KEY: platformKey }
  })
  const ctx: Context = {
    options,
    runDir,
    runTag,
    platformKey,
    jwtSecret,
    signingKeyPem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    cutToken: signToken(jwtSecret, { sub: 'bench-user', azp: 'bench-client', scope: 'live:cut', projects: [PROJECT] }),
    auditToken: signToken(jwtSecret, { sub: 'bench-auditor', azp: 'bench-client', scope: 'audit:read', projects: '*' }),
    simulator,
    otlpSink: options.targets.includes('livecut-sqlite-traced')
      ? await startServerProcess('OTLP sink', join(BENCH_DIR, 'otlp-sink.ts'), { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } })
      : null,
    pgSchemas: [],
    log
  }

  // The floor under an audited cut: two durable commits in a row.
  const commitMs: { sqlite: LatencySummary, postgres?: LatencySummary | string } = { sqlite: probeSqliteCommit(runDir) }
  log(`durable commit (one row, WAL + synchronous=FULL): SQLite p50 ${fixed(commitMs.sqlite.p50)} ms, p99 ${fixed(commitMs.sqlite.p99)} ms`)
  if (options.targets.some((target) => target.includes('postgres'))) {
    const missing = await postgresProblem(options.pgUrl)
    commitMs.postgres = missing ?? await probePostgresCommit(options.pgUrl, `bench_probe_${runTag}_${process.pid}`)
    if (typeof commitMs.postgres !== 'string') log(`durable commit (one-row INSERT, autocommit, round trip included): PostgreSQL p50 ${fixed(commitMs.postgres.p50)} ms, p99 ${fixed(commitMs.postgres.p99)} ms`)
  }
  const appendProbes: AppendProbe[] = []
  if (options.probeEntries > 0) {
    for (const ids of ['v7', 'v4'] as const) {
      const probe = await probeSqliteAppend(runDir, options.probeEntries, ids)
      appendProbes.push(probe)
      log(`audit store alone (SQLite, 50 appenders, ${probe.entries} entries of intent + final), ${ids === 'v7' ? 'time-ordered ids (v7, as the service)' : 'random ids (v4)'}: ${Math.round(probe.entriesPerSecond)} entries/s, ${Math.round(probe.cpuMicrosPerEntry)} µs CPU per entry`)
    }
  }

  const results: TargetResult[] = []
  const servers = new Map<TargetName, Server>()
  let soak: Awaited<ReturnType<typeof runSoak>> | undefined
  let failed = false
  try {
    if (options.soak) {
      soak = await runSoak(ctx, servers)
    } else {
      const postgresMissing = options.targets.some((t) => t.includes('postgres')) ? await postgresProblem(options.pgUrl) : null
      // Saturation: each target in turn, as fast as it answers; with --rounds, again and again.
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
            server = target === 'direct' ? { process: simulator, profileDir: null, trail: null } : await startTarget(ctx, target)
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
            const seeded = server
            result.verification = await measureVerification({
              trailUrl: server.trail.url,
              serverUrl: server.process.url,
              auditToken: ctx.auditToken,
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
      // Latency at the same load for every target.
      const livecutRates = results.filter((r) => r.name.startsWith('livecut') && r.saturated !== undefined).map((r) => (r.saturated as PhaseResult).requestsPerSecond)
      const rate = options.rate === 'off' || options.profile
        ? null
        : options.rate === 'auto'
          ? Math.max(1, Math.floor(Math.min(...(livecutRates.length > 0 ? livecutRates : results.map((r) => r.saturated?.requestsPerSecond ?? 0))) / 2))
          : options.rate
      if (rate !== null && Number.isFinite(rate)) {
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
      for (const result of results) {
        const server = servers.get(result.name)
        if (server === undefined) continue
        result.peakRssMiB = peakRssMiB(server.process.pid)
        if (server.trail !== null) result.auditedSucceeded = await server.trail.countSucceeded()
      }
    }
  } finally {
    for (const [name, server] of servers) if (name !== 'direct') await server.process.stop()
    await simulator.stop()
    if (ctx.otlpSink !== null) {
      // After the servers stopped: closing, the traced one flushed what its batches still held.
      const { exports, bytes } = await ctx.otlpSink.ask('received', {}) as unknown as { exports: number, bytes: number }
      log(`\nOTLP sink: ${exports} exports, ${(bytes / 1024 / 1024).toFixed(1)} MiB of spans from livecut-sqlite-traced`)
      await ctx.otlpSink.stop()
    }
  }

  // Profiles are written when the servers exit.
  for (const result of results) {
    const dir = servers.get(result.name)?.profileDir
    if (dir === null || dir === undefined) continue
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
    if (file === undefined) continue
    // .json: bench/results/*.json is git-ignored; the content is a V8 .cpuprofile.
    const kept = join(options.out, `${stamp}-${result.name}.cpuprofile.json`)
    copyFileSync(join(dir, file), kept)
    result.profile = { file: kept, summary: summariseProfile(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile, 20) }
  }

  for (const schema of ctx.pgSchemas) await postgresQuery(options.pgUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
  rmSync(runDir, { recursive: true, force: true })

  // Every request counted must have been a real, audited cut.
  const problems: string[] = []
  if (soak?.run.problem != null) problems.push(`soak: ${soak.run.problem}`)
  for (const r of results) {
    const phases = [
      ...(r.saturatedRounds ?? []).map((run, i) => [`saturated, round ${i + 1}`, run] as const),
      ...(r.fixedRateRounds ?? []).map((run, i) => [`fixed rate, round ${i + 1}`, run] as const)
    ]
    for (const [phase, run] of phases) {
      if (run?.problem != null) problems.push(`${r.name} (${phase}): ${run.problem}`)
    }
    for (const q of r.auditQueries ?? []) if (q.problem !== null) problems.push(`${r.name} audit query ${q.kind}: ${q.problem}`)
    const v = r.verification
    for (const [name, problem] of [['CLI verify', v?.cli.problem], ['HTTP verify', v?.http.problem], ['one-thread verify', v?.oneThread.problem], ['cuts during verifies', v?.cutsAtFixedRate.problem]]) {
      if (problem != null) problems.push(`${r.name} ${name}: ${problem}`)
    }
    if (r.auditedSucceeded !== undefined) {
      const ok = [...(r.saturatedRounds ?? []), ...(r.fixedRateRounds ?? [])].reduce((sum, run) => sum + (run.statusCodes['200'] ?? 0), 0)
      if (r.auditedSucceeded < ok) problems.push(`${r.name}: ${ok} answers 200 but only ${r.auditedSucceeded} succeeded entries in the audit trail`)
    }
  }

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

  if (!options.soak) {
    log(`\nsaturated: ${options.connections} connections, ${options.duration} s per target (after ${options.warmup} s warm-up); latency at the client`)
    log(saturatedTable(results))
    for (const r of results.filter((r) => r.skipped !== undefined)) log(`${r.name}: skipped — ${r.skipped}`)
    log('')
    for (const [pair, ratio] of Object.entries(ratios)) {
      const rounds = ratio.rounds.length > 1 ? ` (median of the rounds: ${ratio.rounds.map((r) => r.toFixed(3)).join(', ')})` : ''
      log(`${pair}: ${ratio.median.toFixed(3)}× req/s${rounds}`)
    }
    const bare = results.find((r) => r.name === 'bare')
    if (results.some((r) => r.fixedRate !== undefined)) {
      log(`\nat the same load: ${results.find((r) => r.fixedRate !== undefined)?.fixedRate?.requestsPerSecond ?? '?'} req/s achieved (target rate ${options.rate}), ${options.connections} connections, ${options.duration} s`)
      log(fixedRateTable(results, bare))
    }
    for (const r of results.filter((r) => r.auditQueries !== undefined)) {
      log(`\nreview API on ${r.name} (${r.description}): ${options.queries} queries per kind, one connection, limit 50`)
      log(table(['query', 'p50 ms', 'p97.5 ms', 'p99 ms', 'max ms', 'items/page'], (r.auditQueries ?? []).map((q) =>
        [q.kind, fixed(q.latencyMs.p50), fixed(q.latencyMs.p97_5), fixed(q.latencyMs.p99), fixed(q.latencyMs.max), String(q.meanItems)])))
    }
    for (const r of results.filter((r) => r.profile !== undefined)) {
      log(`\n${formatProfileSummary(r.profile?.summary as ProfileSummary, `CPU profile of ${r.name} (${r.profile?.file})`)}`)
    }
  }
  log(`\nresults: ${outFile}`)
  if (problems.length > 0) {
    failed = true
    log(`\nTHE RUN DOES NOT COUNT — failing requests:\n  ${problems.join('\n  ')}`)
  }
  process.exitCode = failed ? 1 : 0
}

/** The server under test gets CPU 0; the simulator, when it only serves, shares CPU 1 with the load generator. */
function placeFor (ctx: Context, server: ServerProcess): void {
  if (!ctx.options.pin) return
  pinToCpu(server.pid, SERVER_CPU)
  if (server !== ctx.simulator) pinToCpu(ctx.simulator.pid, LOAD_CPU)
}

// ---------------------------------------------------------------------------------------------
// Soak: memory after a long sustained run against memory after 10 s.

interface MemorySample { seconds: number, rssMiB: number | null, heapUsedMiB?: number, heapTotalMiB?: number, externalMiB?: number, afterGc?: boolean }

async function runSoak (ctx: Context, servers: Map<TargetName, Server>) {
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

await main()
