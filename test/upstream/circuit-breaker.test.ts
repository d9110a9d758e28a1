import t from 'tap'
import {
  BREAKER_COOLDOWN_MS,
  BREAKER_FAILURE_THRESHOLD,
  BREAKER_PROBE_LEASE_MS,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitStateChange
} from '../../src/upstream/circuit-breaker.ts'

function setup (options: CircuitBreakerOptions = {}) {
  const clock = { now: 1_000 }
  const changes: CircuitStateChange[] = []
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 10_000,
    probeLeaseMs: 5_000,
    now: () => clock.now,
    onStateChange: (change) => changes.push(change),
    ...options
  })
  return { breaker, clock, changes }
}

/** Drives a fresh breaker to open at clock 1000. */
function opened () {
  const s = setup()
  for (let i = 0; i < 3; i++) s.breaker.recordFailure()
  s.changes.length = 0
  return s
}

t.test('defaults', async (t) => {
  t.equal(BREAKER_FAILURE_THRESHOLD, 5)
  t.equal(BREAKER_COOLDOWN_MS, 10_000)
  t.equal(BREAKER_PROBE_LEASE_MS, 30_000)
  const breaker = new CircuitBreaker()
  t.equal(breaker.failureThreshold, 5)
  t.equal(breaker.cooldownMs, 10_000)
  t.equal(breaker.probeLeaseMs, 30_000)
  t.equal(breaker.state, 'closed')
})

t.test('closed: lets everything through; a success resets the run of failures', async (t) => {
  const { breaker, changes } = setup()
  t.equal(breaker.tryAcquire(), true)
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.snapshot().consecutiveFailures, 2)
  breaker.recordSuccess()
  t.same(breaker.snapshot(), { state: 'closed', consecutiveFailures: 0, openedAt: null, probeInFlight: false })
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.state, 'closed', 'below the threshold')
  t.equal(breaker.snapshot().consecutiveFailures, 2)
  t.equal(breaker.tryAcquire(), true)
  t.equal(breaker.retryAfterMs(), 0)
  t.same(changes, [], 'no state change so far')
})

t.test('closed → open after N consecutive failures', async (t) => {
  const { breaker, changes, clock } = setup()
  breaker.recordFailure()
  breaker.recordFailure()
  clock.now = 1_500
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
  t.same(changes, [{ from: 'closed', to: 'open', reason: 'failure_threshold', at: 1_500, consecutiveFailures: 3 }])
  t.same(breaker.snapshot(), { state: 'open', consecutiveFailures: 3, openedAt: 1_500, probeInFlight: false })
})

t.test('open: fails fast until the cool-down; late results are ignored', async (t) => {
  const { breaker, changes, clock } = opened()
  t.equal(breaker.tryAcquire(), false)
  t.equal(breaker.retryAfterMs(), 10_000)
  clock.now = 7_000
  breaker.recordSuccess() // an attempt admitted before it opened
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
  t.equal(breaker.tryAcquire(), false)
  t.equal(breaker.retryAfterMs(), 4_000, 'the cool-down is not restarted by late results')
  clock.now = 10_999
  t.equal(breaker.tryAcquire(), false, 'one ms before the cool-down ends')
  t.same(changes, [])
})

t.test('open → half_open once the cool-down has passed (reported once)', async (t) => {
  const { breaker, changes, clock } = opened()
  clock.now = 11_000
  t.equal(breaker.state, 'half_open')
  t.equal(breaker.state, 'half_open')
  t.same(changes, [{ from: 'open', to: 'half_open', reason: 'cooldown_elapsed', at: 11_000, consecutiveFailures: 3 }])
  t.equal(breaker.retryAfterMs(), 0, 'a probe may go now')
})

t.test('half_open: exactly one probe; success → closed', async (t) => {
  const { breaker, changes, clock } = opened()
  clock.now = 11_000
  t.equal(breaker.tryAcquire(), true, 'the probe')
  t.equal(breaker.tryAcquire(), false, 'nothing else while the probe is out')
  t.equal(breaker.tryAcquire(), false)
  t.equal(breaker.snapshot().probeInFlight, true)
  t.equal(breaker.retryAfterMs(), 5_000, 'until the probe lease ends at the latest')
  clock.now = 11_200
  breaker.recordSuccess()
  t.equal(breaker.state, 'closed')
  t.equal(breaker.tryAcquire(), true)
  t.equal(breaker.tryAcquire(), true)
  t.same(breaker.snapshot(), { state: 'closed', consecutiveFailures: 0, openedAt: 1_000, probeInFlight: false })
  t.same(changes.map((c) => [c.from, c.to, c.reason, c.at]), [
    ['open', 'half_open', 'cooldown_elapsed', 11_000],
    ['half_open', 'closed', 'probe_succeeded', 11_200]
  ])
  // closed again: it takes the full run of failures to reopen
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.state, 'closed')
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
})

t.test('half_open: probe failure → open again, for a new cool-down', async (t) => {
  const { breaker, changes, clock } = opened()
  clock.now = 11_000
  t.equal(breaker.tryAcquire(), true)
  clock.now = 11_300
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
  t.equal(breaker.tryAcquire(), false)
  t.equal(breaker.retryAfterMs(), 10_000)
  t.same(changes.map((c) => [c.from, c.to, c.reason, c.at]), [
    ['open', 'half_open', 'cooldown_elapsed', 11_000],
    ['half_open', 'open', 'probe_failed', 11_300]
  ])
  clock.now = 21_299
  t.equal(breaker.state, 'open')
  clock.now = 21_300
  t.equal(breaker.state, 'half_open')
  t.equal(breaker.tryAcquire(), true, 'a new probe after the new cool-down')
})

t.test('half_open: an unreported probe does not block forever', async (t) => {
  const { breaker, clock } = opened()
  clock.now = 11_000
  t.equal(breaker.tryAcquire(), true)
  clock.now = 15_999
  t.equal(breaker.tryAcquire(), false)
  clock.now = 16_000
  t.equal(breaker.tryAcquire(), true, 'after the probe lease, another probe')
  t.equal(breaker.tryAcquire(), false)
})

t.test('a throwing listener does not break the breaker', async (t) => {
  const { breaker } = setup({ onStateChange: () => { throw new Error('logger down') } })
  breaker.recordFailure()
  breaker.recordFailure()
  t.doesNotThrow(() => breaker.recordFailure())
  t.equal(breaker.state, 'open')
})

t.test('settings are validated', async (t) => {
  t.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError)
  t.throws(() => new CircuitBreaker({ failureThreshold: 1.5 }), RangeError)
  t.throws(() => new CircuitBreaker({ cooldownMs: -1 }), RangeError)
  t.throws(() => new CircuitBreaker({ probeLeaseMs: 0 }), RangeError)
})
