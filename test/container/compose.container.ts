import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { request } from 'undici'
import { parse, stringify } from 'yaml'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { REDIS_KEY_PREFIX } from '../../src/concurrency/redis-connection.ts'
import { connectRedis } from '../helpers/redis.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { hsToken } from '../helpers/tokens.ts'
import { buildStandIns, freePort, podman, PROJECT_ROOT, run, waitFor200 } from './podman.ts'

// docker-compose.yml run by podman-compose (Debian's, 1.0.3), on the stand-ins for postgres:16
// and redis:7 (build-stand-in-images.sh), with one override: every service on the host network
// and loopback, on ports of its own (the shared PostgreSQL and Redis keep 5432 and 6379), with
// the service names resolving to 127.0.0.1. The rest (build, command, environment, secrets
// files, volume, restart policy, healthchecks) is the compose file's.

const PROJECT = `livecut-compose-${process.pid}`
const HOST_NETWORK_PODMAN = fileURLToPath(new URL('podman-host-network.sh', import.meta.url))
// The compose file's own issuer and audience; its key is the simulator's (SIMULATOR_API_KEY).
const ISSUER = 'https://idp.example.com/'
const AUDIENCE = 'livecut-bff'
const JWT_SECRET = 'compose-test-hs256-secret-of-more-than-32-bytes'
/** A value for each secret file the compose file's header says to create. */
const SECRET_VALUES: Record<string, string> = {
  upstream_api_key: 'simulator-platform-key',
  jwt_secret: JWT_SECRET,
  audit_signing_key: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
}

interface ComposeFile {
  services: Record<string, { healthcheck?: { test: string[] } }>
  secrets: Record<string, unknown>
}

function compose (args: string[], overrideFile: string) {
  return run('podman-compose', ['--podman-path', HOST_NETWORK_PODMAN, '--project-name', PROJECT,
    '--file', join(PROJECT_ROOT, 'docker-compose.yml'), '--file', overrideFile,
    '--podman-build-args', '--format docker --pull=never --network=host', ...args])
}

t.test('docker-compose.yml: the stack starts under podman-compose and a cut goes through it', async (t) => {
  const standIns = await buildStandIns()
  t.equal(standIns.code, 0, 'the stand-in images are there', { output: standIns.stdout + standIns.stderr })
  if (standIns.code !== 0) return
  t.comment(standIns.stdout.trim())

  const [servicePort, simulatorPort, postgresPort, redisPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const dir = tempDir(t)
  const composeFile = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile
  const secretFiles: Record<string, { file: string }> = {}
  for (const name of Object.keys(composeFile.secrets)) {
    const value = SECRET_VALUES[name]
    if (value === undefined) throw new Error(`docker-compose.yml declares a secret this test has no value for: ${name}`)
    const file = join(dir, name)
    // The service reads it as uid 1000, as the compose file's header says.
    writeFileSync(file, value, { mode: 0o644 })
    secretFiles[name] = { file }
  }
  const loopback = ['platform-simulator', 'postgres', 'redis'].map((name) => `${name}:127.0.0.1`)
  const override = join(dir, 'host-network.yml')
  writeFileSync(override, stringify({
    services: {
      'livecut-bff': {
        network_mode: 'host',
        extra_hosts: loopback,
        environment: {
          HOST: '127.0.0.1',
          PORT: String(servicePort),
          UPSTREAM_BASE_URL: `http://platform-simulator:${simulatorPort}`,
          AUDIT_STORE_URL: `postgres://livecut:livecut@postgres:${postgresPort}/livecut`,
          REDIS_URL: `redis://redis:${redisPort}`
        }
      },
      'platform-simulator': { network_mode: 'host', environment: { SIMULATOR_HOST: '127.0.0.1', SIMULATOR_PORT: String(simulatorPort) } },
      // PGPORT moves both the server and the healthcheck's pg_isready.
      postgres: { network_mode: 'host', environment: { PGPORT: String(postgresPort) }, command: ['postgres', '-c', 'listen_addresses=127.0.0.1'] },
      // podman-compose 1.0.3 appends an override's command to the compose file's (redis-server
      // and its persistence options), so these are options only; Redis takes the last of each.
      redis: { network_mode: 'host', command: ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no'] }
    },
    secrets: secretFiles
  // podman-compose reads YAML 1.1, where a bare `no` is false.
  }, { version: '1.1' }))

  t.teardown(async () => {
    // `down --volumes` leaves the anonymous /app/data volumes: the containers go with theirs first.
    const containers = await podman(['ps', '--all', '--quiet', '--filter', `label=io.podman.compose.project=${PROJECT}`])
    await podman(['rm', '--force', '--volumes', ...containers.stdout.split('\n').filter(Boolean)])
    await compose(['down', '--volumes'], override)
    // podman-compose creates the project network though no service joins it, and keeps the images.
    await podman(['network', 'rm', `${PROJECT}_default`])
    await podman(['rmi', '--force', `localhost/${PROJECT}_livecut-bff`, `localhost/${PROJECT}_platform-simulator`])
  })
  const up = await compose(['up', '--detach'], override)
  // podman-compose 1.0.3 exits 0 even when a container fails to be created: its output tells.
  t.equal(up.code, 0, 'podman-compose up')
  t.notMatch(up.stdout + up.stderr, /exit code: [1-9]/, 'every podman command of it succeeded', { output: (up.stdout + up.stderr).slice(-4000) })
  const running = await podman(['ps', '--filter', `label=io.podman.compose.project=${PROJECT}`, '--format', '{{.Names}}'])
  t.same(running.stdout.trim().split('\n').sort(), ['livecut-bff', 'platform-simulator', 'postgres', 'redis'].map((service) => `${PROJECT}_${service}_1`), 'all four services run')

  const service = `${PROJECT}_livecut-bff_1`
  const url = `http://127.0.0.1:${servicePort}`
  await waitFor200(`${url}/readyz`, service)
  const response = await request(`${url}/v1/projects/proj-1/live-videos/live-1/cut`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hsToken({ iss: ISSUER, aud: AUDIENCE }, JWT_SECRET)}`, 'content-type': 'application/json' },
    body: '{}'
  })
  t.equal(response.statusCode, 200, 'a cut through the service, with its secrets from files, reaches the simulator')
  const { auditId } = await response.body.json() as { auditId: string }

  const store = await openAuditStore(`postgres://livecut:livecut@127.0.0.1:${postgresPort}/livecut`, { readOnly: true })
  t.teardown(() => store.close())
  t.match(await store.getEntry(auditId, '*'), { outcome: 'succeeded', status: 200 }, 'its audit entry is in the compose PostgreSQL')
  const redis = await connectRedis(t, `redis://127.0.0.1:${redisPort}`)
  t.not((await redis.keys(`${REDIS_KEY_PREFIX}*`)).length, 0, 'the service keeps its shared state in the compose Redis')

  const health = await podman(['healthcheck', 'run', service])
  t.equal(health.code, 0, 'the service passes the image\'s HEALTHCHECK', { output: health.stdout + health.stderr })
  // podman-compose 1.0.3 re-quotes an exec-form healthcheck into a shell line that splits this
  // one's JavaScript (`podman healthcheck run` then says unhealthy): the compose file's own
  // command is run as Docker Compose runs it, in exec form.
  const [form, ...command] = composeFile.services['platform-simulator']?.healthcheck?.test ?? []
  t.equal(form, 'CMD', 'the simulator\'s healthcheck is in exec form')
  const simulatorHealth = await podman(['exec', `${PROJECT}_platform-simulator_1`, ...command])
  t.equal(simulatorHealth.code, 0, 'the simulator passes its compose healthcheck', { output: simulatorHealth.stdout + simulatorHealth.stderr })
})
