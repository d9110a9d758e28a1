/**
 * The run's shared pieces: keys, tokens, the simulator, the servers under test and where each
 * livecut-bff keeps its trail.
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import { BENCH_DIR, type Options, type TargetName } from './options.ts'
import { pinToCpu, startServerProcess, type ServerProcess } from './processes.ts'
import { seedAuditTrail } from './seed-audit.ts'

export const PROJECT = 'proj-bench'
const ISSUER = 'https://idp.bench.local/'
const AUDIENCE = 'livecut-bff'
export const SERVER_CPU = 0
export const LOAD_CPU = 1

export interface Context {
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

export async function postgresProblem (url: string): Promise<string | null> {
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

export async function postgresQuery<T> (url: string, sql: string, values: unknown[] = []): Promise<T[]> {
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
export interface TrailPlace {
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

/** The seeded SQLite trail in the cache: seeded now, or the seed of an earlier run resumed or found complete (kept for later runs). */
async function seededSqlite (ctx: Context): Promise<string> {
  const { entries, cache } = ctx.options
  const file = join(cache, `audit-${entries}-seed1.db`)
  mkdirSync(cache, { recursive: true })
  await seed(ctx, `sqlite:${file}`, file)
  return file
}

/** The seeded PostgreSQL schema, reused (it also holds what earlier runs appended), resumed or seeded now. */
async function seededPostgres (ctx: Context): Promise<string> {
  const schema = `bench_seeded_${ctx.options.entries}`
  await seed(ctx, withSchema(ctx.options.pgUrl, schema), `PostgreSQL schema ${schema}`)
  return schema
}

async function seed (ctx: Context, url: string, where: string): Promise<void> {
  const { entries } = ctx.options
  ctx.log(`  ${entries.toLocaleString('en')} seeded entries in ${where}: checking, resuming or seeding…`)
  let last = performance.now()
  const result = await seedAuditTrail({
    url,
    entries,
    onProgress: (stored, total) => {
      if (stored === 0 || performance.now() - last < 15_000) return
      last = performance.now()
      ctx.log(`    ${stored.toLocaleString('en')} / ${total.toLocaleString('en')} records`)
    }
  })
  if (result.resumedAt === result.records && result.created.length === 0) return
  const how = result.resumedAt === 0 ? 'seeded' : `resumed at record ${result.resumedAt.toLocaleString('en')} and seeded`
  ctx.log(`  ${where}: ${how} ${entries.toLocaleString('en')} entries (${result.records.toLocaleString('en')} records) in ${result.seconds.toFixed(1)} s (kept for later runs)`)
}

export interface Server {
  process: ServerProcess
  profileDir: string | null
  trail: TrailPlace | null
}

export async function startTarget (ctx: Context, target: TargetName): Promise<Server> {
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

/** The server under test gets CPU 0; the simulator, when it only serves, shares CPU 1 with the load generator. */
export function placeFor (ctx: Context, server: ServerProcess): void {
  if (!ctx.options.pin) return
  pinToCpu(server.pid, SERVER_CPU)
  if (server !== ctx.simulator) pinToCpu(ctx.simulator.pid, LOAD_CPU)
}

export async function trailHeadSeq (trail: TrailPlace): Promise<number> {
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

/** Fresh keys and tokens for this run; the platform simulator started (and the OTLP sink, for the traced target). */
export async function createContext (options: Options, runDir: string, runTag: string, log: (line: string) => void): Promise<Context> {
  const platformKey = `bench-platform-${randomBytes(12).toString('hex')}`
  const jwtSecret = randomBytes(32).toString('base64url')
  const simulator = await startServerProcess('simulator', join(BENCH_DIR, 'simulator-server.ts'), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BENCH_PLATFORM_KEY: platformKey }
  })
  return {
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
}
