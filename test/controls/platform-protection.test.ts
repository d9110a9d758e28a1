// A 503 storm from the simulator: the circuit breaker opens after BREAKER_FAILURE_THRESHOLD
// failed attempts and fails fast (503 circuit_open, no platform call), probes half-open after
// BREAKER_COOLDOWN_MS and closes when the probe succeeds; the retry budget keeps the platform
// calls near one per request instead of UPSTREAM_MAX_ATTEMPTS per request.
import t from 'tap'
import { manualClock } from '../helpers/clock.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { cutter, type Answer } from '../helpers/cut-request.ts'
import { auditByRequestId, PROBLEM_JSON } from './support.ts'

const platformCalls = (service: ServiceUnderTest): number => service.simulator.app.simulator.calls().length

/** The breaker's state changes as logged: "from>to:reason". */
function circuitLog (service: ServiceUnderTest): string[] {
  return service.logs.records
    .filter((record) => typeof record.circuit === 'object' && record.circuit !== null)
    .map((record) => {
      const change = record.circuit as { from: string, to: string, reason: string }
      return `${change.from}>${change.to}:${change.reason}`
    })
}

t.test('the breaker opens after a run of 503s and then fails fast without calling the platform', async (t) => {
  const service = await startService(t, {
    env: { BREAKER_FAILURE_THRESHOLD: '3', BREAKER_COOLDOWN_MS: '600000', UPSTREAM_MAX_ATTEMPTS: '4' }
  })
  service.simulator.app.simulator.setFaults({ rate503: 1 })
  // One caller; each cut is of a video of its own, named after its request id (open-1, open-2, …).
  const cut = cutter(service, 'open', { token: hsToken() })

  const tripping = await cut()
  t.equal(tripping.status, 503, 'the request that ran into the storm')
  t.equal(tripping.headers['x-upstream-attempts'], '3', 'its fourth attempt was not made: the circuit opened after three')
  t.equal(platformCalls(service), 3)
  t.equal(service.app.circuitBreaker.state, 'open')
  t.same(circuitLog(service), ['closed>open:failure_threshold'], 'the opening is logged')
  const opening = service.logs.records.find((record) => typeof record.circuit === 'object')
  t.equal(opening?.level, 50, 'at error level')

  const fast: Answer[] = []
  for (let i = 0; i < 5; i++) fast.push(await cut({ key: `open-key-${i}` }))
  for (const answer of fast) {
    t.equal(answer.status, 503, `${answer.requestId}: 503`)
    t.equal(answer.headers['content-type'], PROBLEM_JSON)
    t.match(answer.body, { type: 'urn:livecut:problem:circuit_open', status: 503 }, `${answer.requestId}: circuit_open`)
    const retryAfter = Number(answer.headers['retry-after'])
    t.ok(retryAfter >= 1 && retryAfter <= 600, `${answer.requestId}: Retry-After until the cool-down ends (${retryAfter})`)
  }
  t.equal(platformCalls(service), 3, 'no platform call while the circuit is open')

  const entries = await auditByRequestId(service)
  for (const answer of fast) {
    t.match(entries.get(answer.requestId), { status: 503, outcome: 'failed', reason: 'circuit_open', upstream: { attempts: 0 } }, `${answer.requestId} is audited`)
  }
})

t.test('after the cool-down one probe goes through: a failing probe reopens, a succeeding one closes', async (t) => {
  const cooldownMs = 500
  const clock = manualClock()
  const service = await startService(t, {
    env: { BREAKER_FAILURE_THRESHOLD: '3', BREAKER_COOLDOWN_MS: String(cooldownMs), UPSTREAM_MAX_ATTEMPTS: '4' },
    build: { now: clock.now }
  })
  const sim = service.simulator.app.simulator
  sim.setFaults({ rate503: 1 })
  const cut = cutter(service, 'probe', { token: hsToken() })

  t.equal((await cut()).status, 503)
  t.equal(platformCalls(service), 3, 'three failures opened it')

  clock.tick(cooldownMs + 50) // the cool-down is the behaviour under test
  const failedProbe = await cut()
  t.equal(failedProbe.status, 503)
  t.match(failedProbe.body, { type: 'urn:livecut:problem:circuit_open' }, 'the probe failed, the circuit reopened, and the request stopped there')
  t.equal(failedProbe.headers['x-upstream-attempts'], '1', 'one attempt: the probe')
  t.equal(platformCalls(service), 4, 'exactly one platform call for the probe')

  const keyed = await cut({ key: 'probe-key' })
  t.equal(keyed.status, 503)
  t.match(keyed.body, { type: 'urn:livecut:problem:circuit_open' })

  sim.setFaults({ rate503: 0 }) // the storm ends
  clock.tick(cooldownMs + 50)
  const callsBefore = platformCalls(service)
  const probe = await cut({ key: 'probe-key' })
  t.equal(probe.status, 200, 'the probe succeeds')
  t.equal(probe.headers['idempotent-replayed'], undefined, 'the key refused by the open circuit was free to be used')
  t.equal(probe.headers['x-upstream-attempts'], '1')
  t.equal(platformCalls(service) - callsBefore, 1)
  t.equal(service.app.circuitBreaker.state, 'closed')
  const after = await cut()
  t.equal(after.status, 200, 'cuts work again')

  const log = circuitLog(service)
  t.same(log.slice(0, 3), ['closed>open:failure_threshold', 'open>half_open:cooldown_elapsed', 'half_open>open:probe_failed'], 'the failing probe is logged')
  t.same(log.slice(-2), ['open>half_open:cooldown_elapsed', 'half_open>closed:probe_succeeded'], 'the recovery is logged')
})

t.test('the retry budget: a 503 storm is not multiplied by the attempt count', async (t) => {
  const N = 100
  const ratio = 0.1
  const service = await startService(t, {
    env: { RETRY_BUDGET_RATIO: String(ratio), BREAKER_FAILURE_THRESHOLD: '1000000', UPSTREAM_MAX_ATTEMPTS: '4' },
    // Stopped: every request falls in the budget's window, however slow the machine.
    build: { now: manualClock().now }
  })
  service.simulator.app.simulator.setFaults({ rate503: 1 })
  const cut = cutter(service, 'budget', { token: hsToken() })
  const answers: Answer[] = []
  // In batches of 20 at once.
  const started = Date.now()
  for (let batch = 0; batch < N / 20; batch++) {
    answers.push(...await Promise.all(Array.from({ length: 20 }, async () => await cut())))
  }
  const elapsedMs = Date.now() - started
  t.equal(service.app.circuitBreaker.state, 'closed', 'the breaker stayed out of it')
  t.ok(answers.every((answer) => answer.status === 503 && answer.body.type === 'urn:livecut:problem:upstream_unavailable'), 'every cut is 503 upstream_unavailable')
  t.ok(answers.every((answer) => Number(answer.headers['retry-after']) >= 1), 'each with Retry-After')
  const calls = platformCalls(service)
  const bound = N + Math.max(10, Math.floor(ratio * N))
  t.ok(calls >= N, `each request was tried at least once (${calls} calls)`)
  t.ok(calls <= bound, `${calls} platform calls for ${N} requests: at most ${bound}, not ${N * 4}`)
  const attempts = answers.reduce((sum, answer) => sum + Number(answer.headers['x-upstream-attempts']), 0)
  t.equal(attempts, calls, 'x-upstream-attempts adds up to the calls the platform saw')
  t.comment(`retry budget: ${N} requests → ${calls} platform calls in ${elapsedMs} ms`)
})

t.test('control: without a binding budget every request uses all its attempts', async (t) => {
  const N = 20
  const service = await startService(t, { env: { RETRY_BUDGET_RATIO: '10', BREAKER_FAILURE_THRESHOLD: '1000000', UPSTREAM_MAX_ATTEMPTS: '4' } })
  service.simulator.app.simulator.setFaults({ rate503: 1 })
  const cut = cutter(service, 'unbudgeted', { token: hsToken() })
  for (let i = 0; i < N; i++) t.equal((await cut()).headers['x-upstream-attempts'], '4')
  t.equal(platformCalls(service), N * 4, 'the storm is multiplied by four')
})
