import { generateKeyPairSync } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { EnvSchema } from '../../src/config/env-schema.ts'
import { hsToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from '../helpers/tokens.ts'
import { buildProjectImage, freePort, inspect, podman, runContainer, waitFor200 } from './podman.ts'

// `npm run test:container`: the image built from the Dockerfile as it is (on a local stand-in
// for its base image, see build-stand-in-images.sh) and run by podman on the host network, with
// the platform simulator started from the same image.

const IMAGE = `localhost/livecut-bff:test-${process.pid}`
const SIMULATOR_KEY = 'container-test-platform-key'
const AUDIT_SIGNING_KEY_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
/** Production refuses to start without these (SPEC: set-up); the signing key once the service reads it. */
const REQUIRED_IN_PRODUCTION = ['UPSTREAM_BASE_URL', 'UPSTREAM_API_KEY', 'JWT_SECRET', 'JWT_ISSUER', 'JWT_AUDIENCE',
  ...('AUDIT_SIGNING_KEY' in EnvSchema.properties ? ['AUDIT_SIGNING_KEY'] : [])]

/** What production needs (SPEC: set-up), on loopback ports of its own. */
function productionEnv (port: number, simulatorUrl: string): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    UPSTREAM_BASE_URL: simulatorUrl,
    UPSTREAM_API_KEY: SIMULATOR_KEY,
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    AUDIT_SIGNING_KEY: AUDIT_SIGNING_KEY_PEM
  }
}

/** The simulator as compose runs it: `node src/simulator/server.ts` from the project's image. */
async function startSimulatorContainer (t: Test): Promise<{ name: string, url: string }> {
  const port = await freePort()
  const name = await runContainer(t, IMAGE, {
    // PORT points the image's HEALTHCHECK at a port nobody serves: see the healthcheck test.
    env: { SIMULATOR_HOST: '127.0.0.1', SIMULATOR_PORT: String(port), SIMULATOR_API_KEY: SIMULATOR_KEY, PORT: String(await freePort()) },
    command: ['node', 'src/simulator/server.ts']
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor200(`${url}/__simulator/faults`, name)
  return { name, url }
}

async function startService (t: Test, simulatorUrl: string): Promise<{ name: string, url: string, startMs: number }> {
  const port = await freePort()
  const started = performance.now()
  const name = await runContainer(t, IMAGE, { env: productionEnv(port, simulatorUrl) })
  const url = `http://127.0.0.1:${port}`
  await waitFor200(`${url}/readyz`, name)
  return { name, url, startMs: Math.round(performance.now() - started) }
}

function cut (url: string, videoId: string) {
  return request(`${url}/v1/projects/proj-1/live-videos/${videoId}/cut`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hsToken()}`, 'content-type': 'application/json' },
    body: '{}'
  })
}

/** The host path of the container's /app/data volume. */
async function dataVolumeOf (t: Test, name: string): Promise<string> {
  const mounts = JSON.parse(await inspect(name, '{{json .Mounts}}')) as Array<{ Type: string, Source: string, Destination: string }>
  const data = mounts.find((mount) => mount.Destination === '/app/data')
  t.equal(data?.Type, 'volume', '/app/data is a volume')
  return data?.Source as string
}

async function trailEntry (volume: string, auditId: string) {
  const store = await openAuditStore(`sqlite:${volume}/audit.db`, { readOnly: true })
  try {
    return await store.getEntry(auditId, '*')
  } finally {
    await store.close()
  }
}

t.test('the image built from the Dockerfile as it is', async (t) => {
  t.teardown(() => podman(['rmi', '--force', IMAGE]))
  const buildStarted = performance.now()
  const build = await buildProjectImage(IMAGE)
  const buildSeconds = ((performance.now() - buildStarted) / 1000).toFixed(1)
  t.equal(build.code, 0, 'builds', { output: `${build.stdout}\n${build.stderr}`.slice(-4000) })
  if (build.code !== 0) return
  const sizeMb = (Number(await inspect(IMAGE, '{{.Size}}')) / 1e6).toFixed(0)
  t.comment(`image: ${sizeMb} MB, built in ${buildSeconds} s (the stand-in base included when it was missing)`)

  t.test('production start without settings exits non-zero naming every missing one', async (t) => {
    const result = await podman(['run', '--rm', '--network=host', IMAGE])
    t.not(result.code, 0, 'exits non-zero')
    for (const name of REQUIRED_IN_PRODUCTION) {
      t.match(result.stderr, name, `names ${name}`)
    }
  })

  t.test('the service runs as uid 1000 on read-only code, serves a cut and keeps its trail on the volume across a restart', async (t) => {
    const simulator = await startSimulatorContainer(t)
    const service = await startService(t, simulator.url)
    t.comment(`start: ${service.startMs} ms from podman run to /readyz 200`)

    for (const probe of ['/healthz', '/readyz']) {
      const response = await request(`${service.url}${probe}`)
      await response.body.dump()
      t.equal(response.statusCode, 200, `${probe} 200`)
    }

    const status = await podman(['exec', service.name, 'cat', '/proc/1/status', '/proc/1/cmdline'])
    t.match(status.stdout, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, 'PID 1 runs as uid 1000')
    t.match(status.stdout, 'node\0src/server.ts', 'PID 1 is node itself (exec form), so it receives SIGTERM')
    const write = await podman(['exec', service.name, 'node', '-e', 'require("node:fs").writeFileSync("/app/src/changed.ts", "")'])
    t.not(write.code, 0, 'the service user cannot write /app/src')
    t.match(write.stderr, 'EACCES')

    const response = await cut(service.url, 'live-1')
    t.equal(response.statusCode, 200, 'a cut through the simulator container succeeds')
    const { auditId } = await response.body.json() as { auditId: string }
    const volume = await dataVolumeOf(t, service.name)
    t.match(await trailEntry(volume, auditId), { outcome: 'succeeded', status: 200 }, 'its entry is in the SQLite trail on the volume')

    const restart = await podman(['restart', service.name])
    t.equal(restart.code, 0, 'podman restart', { stderr: restart.stderr })
    await waitFor200(`${service.url}/readyz`, service.name)
    t.equal(await dataVolumeOf(t, service.name), volume, 'the same volume after the restart')
    const entry = await request(`${service.url}/v1/audit/events/${auditId}`, { headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read' })}` } })
    t.equal(entry.statusCode, 200, 'the restarted service still serves the entry')
    t.match(await entry.body.json(), { id: auditId, outcome: 'succeeded' })
    const second = await cut(service.url, 'live-2')
    t.equal(second.statusCode, 200, 'and cuts again')
    await second.body.dump()
    const verify = await request(`${service.url}/v1/audit/verify`, { headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: ['*'] })}` } })
    t.match(await verify.body.json(), { ok: true }, 'the chain across the restart verifies')
  })

  t.test('the HEALTHCHECK passes on the service and fails where nothing answers', async (t) => {
    const simulator = await startSimulatorContainer(t)
    const service = await startService(t, simulator.url)
    const healthy = await podman(['healthcheck', 'run', service.name])
    t.equal(healthy.code, 0, 'podman healthcheck run passes', { output: healthy.stdout + healthy.stderr })
    t.equal(await inspect(service.name, '{{.State.Health.Status}}'), 'healthy')
    // The simulator container has the same HEALTHCHECK, pointed at a port with no service.
    const unhealthy = await podman(['healthcheck', 'run', simulator.name])
    t.not(unhealthy.code, 0, 'and fails without a service to answer')
  })

  t.test('SIGTERM during a slow cut: the cut finishes, is audited, and the container exits 0', async (t) => {
    const simulator = await startSimulatorContainer(t)
    const faults = await request(`${simulator.url}/__simulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script: [{ kind: 'delay', ms: 2000 }] })
    })
    t.equal(faults.statusCode, 200, 'the simulator will hold the next call')
    await faults.body.dump()
    const service = await startService(t, simulator.url)
    const volume = await dataVolumeOf(t, service.name)

    const inFlight = cut(service.url, 'live-slow')
    let calls: unknown[] = []
    for (let attempt = 0; attempt < 300 && calls.length === 0; attempt++) {
      await sleep(20)
      calls = await (await request(`${simulator.url}/__simulator/calls`)).body.json() as unknown[]
    }
    t.equal(calls.length, 1, 'the platform holds the cut')

    const stop = await podman(['stop', '--time', '30', service.name])
    t.equal(stop.code, 0, 'podman stop (SIGTERM)', { stderr: stop.stderr })
    const response = await inFlight
    t.equal(response.statusCode, 200, 'the cut in flight completed')
    const { auditId } = await response.body.json() as { auditId: string }
    t.equal(await inspect(service.name, '{{.State.ExitCode}}'), '0', 'exit code 0')
    t.match(await trailEntry(volume, auditId), { outcome: 'succeeded', status: 200 }, 'its entry is final on the volume')
  })
})
