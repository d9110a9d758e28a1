/** `npm run bench`'s command line: the targets it knows, the options and their defaults. */
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url))

const TARGETS = ['direct', 'bare', 'livecut-sqlite', 'livecut-sqlite-traced', 'livecut-postgres', 'livecut-sqlite-seeded', 'livecut-postgres-seeded'] as const
export type TargetName = typeof TARGETS[number]
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
                      NDJSON and CSV exports, verification (CLI, HTTP, records/s) and cuts at a fixed rate during
                      three HTTP verifies
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
  --cache DIR         where seeded SQLite trails are kept between runs; a seed that was interrupted is resumed
                      (default ${join(tmpdir(), 'livecut-bench')})
  --out DIR           where results/<timestamp>.json goes (default bench/results)
`

export interface Options {
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

export function parseOptions (argv: string[]): Options {
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
