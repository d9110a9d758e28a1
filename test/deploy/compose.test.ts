import t from 'tap'
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { EnvSchema, SECRET_VARIABLES } from '../../src/config/env-schema.ts'
import { loadConfig } from '../../src/config/load-config.ts'
import { simulatorOptionsFromEnv, startSimulator } from '../../src/simulator/server.ts'

// The compose file checked as data, against what the service and the simulator read, and the
// simulator's healthcheck command run for real; test/container/compose.container.ts
// (npm run test:container) runs the whole file under podman-compose.

const root = fileURLToPath(new URL('../../', import.meta.url))
const composeText = readFileSync(`${root}docker-compose.yml`, 'utf8')

interface Service {
  build?: unknown
  image?: string
  command?: unknown
  environment?: Record<string, unknown> | string[]
  secrets?: Array<string | { source: string, target?: string }>
  ports?: Array<string | number | { target: number, published?: string | number }>
  depends_on?: string[] | Record<string, { condition?: string }>
  healthcheck?: { test?: string[] | string }
  volumes?: unknown[]
  stop_grace_period?: string
}
interface Compose {
  services?: Record<string, Service>
  secrets?: Record<string, { file?: string, environment?: string }>
}

const compose = parse(composeText) as Compose
const services = compose.services ?? {}
const SERVICE = 'livecut-bff'
const SIMULATOR = 'platform-simulator'

/** A service's environment as name → value, from either the map or the list form. */
function environmentOf (service: Service | undefined): Record<string, string | undefined> {
  const environment = service?.environment
  if (environment === undefined) return {}
  const entries: Array<[string, unknown]> = Array.isArray(environment)
    ? environment.map((item) => {
      const at = item.indexOf('=')
      return at < 0 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1)]
    })
    : Object.entries(environment)
  return Object.fromEntries(entries.map(([name, value]) => [name, value === null || value === undefined ? undefined : String(value)]))
}

/** Mounted secrets as name → path inside the container. */
function secretMounts (service: Service | undefined): Map<string, string> {
  const mounts = new Map<string, string>()
  for (const secret of service?.secrets ?? []) {
    const source = typeof secret === 'string' ? secret : secret.source
    const target = typeof secret === 'string' ? undefined : secret.target
    mounts.set(source, target === undefined ? `/run/secrets/${source}` : target.startsWith('/') ? target : `/run/secrets/${target}`)
  }
  return mounts
}

function dependsOn (service: Service | undefined): Record<string, string | undefined> {
  const dependencies = service?.depends_on ?? []
  if (Array.isArray(dependencies)) return Object.fromEntries(dependencies.map((name) => [name, undefined]))
  return Object.fromEntries(Object.entries(dependencies).map(([name, options]) => [name, options?.condition]))
}

/** Compose durations such as `30s`, `1m30s`, `500ms`, in milliseconds. */
function durationMs (text: string | undefined): number {
  let total = 0
  for (const match of (text ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    total += Number(match[1]) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 } as Record<string, number>)[match[2] as string]!
  }
  return total
}

const serviceEnv = environmentOf(services[SERVICE])
const simulatorEnv = environmentOf(services[SIMULATOR])

/** The SIMULATOR_* variables simulatorOptionsFromEnv reads, from its source (there is no exported list). */
const simulatorSource = readFileSync(`${root}src/simulator/server.ts`, 'utf8')
const simulatorReader = /export function simulatorOptionsFromEnv[\s\S]*?\n}\n/.exec(simulatorSource)?.[0] ?? ''
const SIMULATOR_VARIABLES = new Set(simulatorReader.match(/SIMULATOR_[A-Z0-9_]+/g) ?? [])

t.test('the four services', async (t) => {
  for (const name of [SERVICE, SIMULATOR, 'postgres', 'redis']) t.ok(services[name], `service ${name}`)
  t.match(String(services.postgres?.image), /^postgres:16\b/, 'PostgreSQL 16')
  t.match(String(services.redis?.image), /^redis:7\b/, 'Redis 7')
})

t.test('Redis persists and never evicts, as the README recommends', async (t) => {
  const command = services.redis?.command as string[] | undefined
  const option = (name: string): string | undefined => command?.[command.indexOf(`--${name}`) + 1]
  t.equal(command?.[0], 'redis-server')
  t.equal(option('appendonly'), 'yes', 'append-only file on')
  t.equal(option('appendfsync'), 'everysec')
  t.equal(option('maxmemory-policy'), 'noeviction', 'a lock or key is never evicted')
  t.ok((services.redis?.volumes ?? []).some((volume) => String(volume).endsWith(':/data')), 'its data on a volume')
})

t.test('every variable set on livecut-bff is one the service reads', async (t) => {
  const known = new Set([...Object.keys(EnvSchema.properties), ...SECRET_VARIABLES.map((name) => `${name}_FILE`)])
  const names = Object.keys(serviceEnv)
  t.ok(names.length > 0, 'livecut-bff sets variables')
  for (const name of names) t.ok(known.has(name), `${name} is in EnvSchema or a secret's _FILE twin`)
})

t.test('every variable set on platform-simulator is one simulatorOptionsFromEnv reads', async (t) => {
  t.ok(SIMULATOR_VARIABLES.size >= 3, `found the simulator's variables in src/simulator/server.ts (${[...SIMULATOR_VARIABLES].join(', ')})`)
  const names = Object.keys(simulatorEnv)
  t.ok(names.length > 0, 'platform-simulator sets variables')
  for (const name of names) t.ok(SIMULATOR_VARIABLES.has(name), `${name} is read by simulatorOptionsFromEnv`)
})

t.test('the service calls the simulator by its service name and port, with a key it accepts', async (t) => {
  const options = simulatorOptionsFromEnv(simulatorEnv)
  t.equal(options.host, '0.0.0.0', 'the simulator listens on every interface, so other containers reach it')
  const upstream = new URL(serviceEnv.UPSTREAM_BASE_URL ?? 'invalid:')
  t.equal(upstream.protocol, 'http:')
  t.equal(upstream.hostname, SIMULATOR, 'UPSTREAM_BASE_URL names the simulator service')
  t.equal(Number(upstream.port), options.port, 'UPSTREAM_BASE_URL uses the simulator\'s SIMULATOR_PORT')

  // The key reaches the service as a secret file the operator creates; the header comment says what to put in it.
  const documented = /printf %s '([^']+)' > secrets\/upstream_api_key/.exec(composeText)?.[1]
  t.ok(documented, 'the header comment shows how to create secrets/upstream_api_key')
  t.ok(options.apiKeys?.includes(documented ?? ''), 'the documented key is one the simulator accepts')
})

t.test('the production settings SPEC requires are present, and the loader accepts them', async (t) => {
  const set = (name: string): boolean => serviceEnv[name] !== undefined || serviceEnv[`${name}_FILE`] !== undefined
  t.equal(serviceEnv.NODE_ENV, 'production', 'NODE_ENV=production')
  t.ok(serviceEnv.UPSTREAM_BASE_URL, 'UPSTREAM_BASE_URL')
  t.ok(set('UPSTREAM_API_KEY') || set('UPSTREAM_API_KEYS'), 'an upstream key')
  t.ok(set('JWT_SECRET') || set('JWT_PUBLIC_KEY') || serviceEnv.JWT_JWKS_URL !== undefined, 'JWT verification')
  t.ok(serviceEnv.JWT_ISSUER, 'JWT_ISSUER')
  t.ok(serviceEnv.JWT_AUDIENCE, 'JWT_AUDIENCE')
  t.ok(set('AUDIT_SIGNING_KEY'), 'AUDIT_SIGNING_KEY')
  for (const name of SECRET_VARIABLES) t.equal(serviceEnv[name], undefined, `${name} is not written into the compose file (use ${name}_FILE)`)

  // The loader itself, as `node src/server.ts` runs it in the container, with the secret files
  // the operator creates standing in at temporary paths.
  const dir = mkdtempSync(join(tmpdir(), 'livecut-compose-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: Record<string, string | undefined> = { ...serviceEnv }
  for (const name of SECRET_VARIABLES) {
    const path = env[`${name}_FILE`]
    if (path === undefined) continue
    const stand = join(dir, name)
    const standIn = name === 'UPSTREAM_API_KEYS'
      ? '{"proj-1":"key-1"}'
      : name === 'AUDIT_SIGNING_KEY'
        ? generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
        : `${'ab'.repeat(32)}\n`
    writeFileSync(stand, standIn)
    env[`${name}_FILE`] = stand
  }
  t.doesNotThrow(() => loadConfig(env), 'loadConfig accepts the production environment')
})

t.test('secrets: every reference is a top-level secret, every _FILE path a mounted one', async (t) => {
  const topLevel = compose.secrets ?? {}
  for (const [name, service] of Object.entries(services)) {
    for (const source of secretMounts(service).keys()) t.ok(topLevel[source], `${name} uses secret ${source}, defined at the top level`)
  }
  for (const [name, secret] of Object.entries(topLevel)) {
    t.match(secret.file ?? '', /^\.\/secrets\/[^/]+$/, `secret ${name} is a file under ./secrets/ (created by the operator)`)
  }
  const mounted = new Set(secretMounts(services[SERVICE]).values())
  const fileVariables = Object.keys(serviceEnv).filter((name) => name.endsWith('_FILE'))
  t.ok(fileVariables.length > 0, 'secrets reach livecut-bff through _FILE variables')
  for (const name of fileVariables) t.ok(mounted.has(serviceEnv[name] ?? ''), `${name}=${serviceEnv[name]} is a secret mounted on ${SERVICE}`)
})

t.test('the audit store is the postgres service, Redis the redis service', async (t) => {
  const database = new URL(serviceEnv.AUDIT_STORE_URL ?? 'invalid:')
  const postgresEnv = environmentOf(services.postgres)
  t.equal(database.protocol, 'postgres:')
  t.equal(database.hostname, 'postgres', 'AUDIT_STORE_URL names the postgres service')
  t.equal(database.port, '5432')
  t.equal(decodeURIComponent(database.username), postgresEnv.POSTGRES_USER, 'user = POSTGRES_USER')
  t.equal(decodeURIComponent(database.password), postgresEnv.POSTGRES_PASSWORD, 'password = POSTGRES_PASSWORD')
  t.equal(database.pathname.slice(1), postgresEnv.POSTGRES_DB, 'database = POSTGRES_DB')

  const redis = new URL(serviceEnv.REDIS_URL ?? 'invalid:')
  t.equal(redis.protocol, 'redis:')
  t.equal(redis.hostname, 'redis', 'REDIS_URL names the redis service')
  t.equal(redis.port, '6379')
})

t.test('start order waits on healthchecks; the port is published; shutdown has its grace', async (t) => {
  const dependencies = dependsOn(services[SERVICE])
  for (const name of [SIMULATOR, 'postgres', 'redis']) {
    t.equal(dependencies[name], 'service_healthy', `${SERVICE} waits until ${name} is healthy`)
    t.ok(services[name]?.healthcheck?.test, `${name} has a healthcheck`)
  }
  const port = Number(serviceEnv.PORT ?? (EnvSchema.properties.PORT as { default?: unknown }).default)
  const published = (services[SERVICE]?.ports ?? []).map((entry) =>
    typeof entry === 'object' ? entry.target : Number(String(entry).split(':').at(-1)?.split('/')[0]))
  t.ok(published.includes(port), `container port ${port} is published`)

  const grace = /closeWithGrace\(\s*\{[^}]*\bdelay:\s*([\d_]+)/.exec(readFileSync(`${root}src/server.ts`, 'utf8'))?.[1]
  t.ok(grace, 'src/server.ts states its shutdown grace period (update this test if it moved)')
  const graceMs = Number((grace ?? 'NaN').replaceAll('_', ''))
  t.ok(durationMs(services[SERVICE]?.stop_grace_period) > graceMs,
    `stop_grace_period (${services[SERVICE]?.stop_grace_period}) outlasts the ${graceMs} ms in-flight grace, so Docker does not SIGKILL a finishing cut`)
})

t.test('the simulator runs from the service\'s own image', async (t) => {
  t.ok(services[SERVICE]?.build, `${SERVICE} is built from the Dockerfile`)
  t.same(services[SIMULATOR]?.build, services[SERVICE]?.build, 'the simulator is built the same way')
  t.equal(services[SIMULATOR]?.image, services[SERVICE]?.image, 'and names the same image (or none)')
  t.same(services[SIMULATOR]?.command, ['node', 'src/simulator/server.ts'], 'command runs the simulator, exec form')
  t.ok(existsSync(`${root}src/simulator/server.ts`), 'src/simulator/server.ts exists')
})

t.test('the simulator\'s healthcheck passes against the simulator and fails without it', async (t) => {
  const test = services[SIMULATOR]?.healthcheck?.test
  t.ok(Array.isArray(test) && test[0] === 'CMD' && test[1] === 'node', 'exec form, run by node (no curl in the slim image)')
  if (!Array.isArray(test)) return
  const argv = test.slice(2)
  const run = async (port: number): Promise<number | null> => await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...simulatorEnv, SIMULATOR_PORT: String(port) }, stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', (code) => resolve(code))
  })

  const simulator = await startSimulator({ host: '127.0.0.1', port: 0 })
  t.teardown(() => simulator.close())
  t.equal(await run(Number(new URL(simulator.url).port)), 0, 'healthy against a running simulator')

  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  t.not(await run(port), 0, 'unhealthy when nothing listens')
})
