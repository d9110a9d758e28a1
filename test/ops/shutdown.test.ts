import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { startSimulator } from '../../src/simulator/server.ts'
import type { ScriptedFault } from '../../src/simulator/simulator-state.ts'
import { startServerProcess } from '../helpers/server-process.ts'
import { PLATFORM_KEY } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

/** `npm start` as a process against a simulator holding its first call as `fault`; resolves once it listens. */
async function startServer (t: Test, fault: ScriptedFault) {
  const simulator = await startSimulator({ apiKeys: [PLATFORM_KEY], script: [fault] })
  t.teardown(() => simulator.close())
  const { child, url, auditUrl, stderr } = await startServerProcess(t, simulator.url)
  t.ok(url, 'the server listens')
  const inFlight = request(`${url}/v1/projects/proj-1/live-videos/live-1/cut`, { method: 'POST', headers: { authorization: `Bearer ${hsToken()}` } })
  for (let i = 0; i < 500 && simulator.app.simulator.calls().length === 0; i++) await sleep(10)
  t.equal(simulator.app.simulator.calls().length, 1, 'the platform holds the call')
  return { child, url, auditUrl, inFlight, stderr }
}

t.test('SIGTERM: a cut in flight completes and is audited, new requests are refused, exit 0', async (t) => {
  const { child, url, auditUrl, inFlight } = await startServer(t, { kind: 'delay', ms: 1500 })
  child.kill('SIGTERM')
  const exited = once(child, 'exit')

  for (let i = 0; i < 100; i++) {
    // Bounded: until the listener is gone, which happens at once on SIGTERM.
    const refused = await request(`${url}/healthz`, { reset: true }).then((response) => { response.body.dump(); return false }, () => true)
    if (refused) break
    await sleep(10)
  }
  const lateRefused = await request(`${url}/healthz`, { reset: true }).then(() => false, () => true)
  t.ok(lateRefused, 'a new connection after the signal is refused')

  const response = await inFlight
  t.equal(response.statusCode, 200, 'the cut in flight completed')
  const body = await response.body.json() as { auditId: string }
  const [code] = await exited
  t.equal(code, 0, 'exit 0')

  const store = await openAuditStore(auditUrl, { readOnly: true })
  t.teardown(() => store.close())
  const entry = await store.getEntry(body.auditId, '*')
  t.match(entry, { outcome: 'succeeded', status: 200 }, 'and its audit entry is final')
})

t.test('a second signal exits at once, without waiting for the cut in flight', async (t) => {
  const { child, inFlight, stderr } = await startServer(t, { kind: 'hang' })
  const abandoned = inFlight.catch((error: Error) => error)
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await sleep(100)
  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 1)
  t.match(stderr(), /second SIGTERM, exiting/)
  t.type(await abandoned, Error, 'the abandoned request saw its connection drop')
})
