import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { BACKENDS, setUpTrail } from '../helpers/audit-fixtures.ts'
import { PLATFORM_KEY } from '../helpers/service.ts'
import { hsToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from '../helpers/tokens.ts'
import { startSimulator } from '../../src/simulator/server.ts'

const root = new URL('../..', import.meta.url).pathname

/** `npm start` as a real process; resolves with its URL once it listens. */
async function startServer (t: Test, env: Record<string, string>): Promise<{ url: string, child: ChildProcess }> {
  const child = spawn(process.execPath, ['src/server.ts'], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  for await (const chunk of child.stdout!) {
    output += String(chunk)
    const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
    if (listening !== null) return { url: listening[1] as string, child }
  }
  throw new Error(`the server exited before listening:\n${output}`)
}

for (const backend of BACKENDS) {
  t.test(`${backend}: a process killed during the platform call leaves an entry that reads unknown after the restart`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const simulator = await startSimulator({ apiKeys: [PLATFORM_KEY], script: [{ kind: 'hang' }] })
    t.teardown(() => simulator.close())
    const env = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      UPSTREAM_BASE_URL: simulator.url,
      UPSTREAM_API_KEY: PLATFORM_KEY,
      UPSTREAM_TIMEOUT_MS: '60000',
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      AUDIT_STORE_URL: trail.url
    }

    const first = await startServer(t, env)
    const pending = request(`${first.url}/v1/projects/proj-1/live-videos/live-crash/cut`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hsToken()}`, 'x-request-id': `crash-${backend}` }
    }).catch((error: Error) => error)
    // Wait (bounded) until the platform holds the call: the intent is recorded by then.
    for (let i = 0; i < 500 && simulator.app.simulator.calls().length === 0; i++) await sleep(10)
    t.equal(simulator.app.simulator.calls().length, 1, 'the platform received the call')
    first.child.kill('SIGKILL')
    await once(first.child, 'exit')
    t.type(await pending, Error, 'the client saw the connection drop')

    const second = await startServer(t, env)
    const auditor = hsToken({ scope: 'audit:read', projects: '*' })
    const response = await request(`${second.url}/v1/audit/events?videoId=live-crash`, { headers: { authorization: `Bearer ${auditor}` } })
    const { items } = await response.body.json() as { items: Array<Record<string, unknown>> }
    t.equal(items.length, 1, 'exactly one entry, not missing')
    t.match(items[0], { requestId: `crash-${backend}`, outcome: 'unknown', status: null, projectId: 'proj-1', videoId: 'live-crash', actor: { sub: 'user-1' } })
    const verified = await request(`${second.url}/v1/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } })
    t.match(await verified.body.json(), { ok: true })
    second.child.kill('SIGTERM')
    const [code] = await once(second.child, 'exit')
    t.equal(code, 0, 'a SIGTERM exits 0')
  })
}
