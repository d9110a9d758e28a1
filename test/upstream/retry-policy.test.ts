import t from 'tap'
import { backoffCeilingMs, decideRetry, type AttemptOutcome, type RetryBounds } from '../../src/upstream/retry-policy.ts'

const bounds: RetryBounds = { maxAttempts: 4, deadlineMs: 15_000, retryBaseMs: 250, retryMaxMs: 4000 }
const unavailable: AttemptOutcome = { kind: 'unavailable', retryAfterMs: null }
const notSent: AttemptOutcome = { kind: 'not_sent' }
const final: AttemptOutcome = { kind: 'final' }
const fixed = (value: number) => () => value
const LOWEST = 0
const HIGHEST = 0.999999

t.test('only a 503 or a request never sent is retried', async (t) => {
  t.same(decideRetry({ outcome: final, attempt: 1, elapsedMs: 0, bounds, random: fixed(0.5) }),
    { action: 'stop', reason: 'not_retryable' }, 'any other answer, a timeout or a reset after sending is final')
  t.equal(decideRetry({ outcome: unavailable, attempt: 1, elapsedMs: 0, bounds, random: fixed(0.5) }).action, 'retry')
  t.equal(decideRetry({ outcome: notSent, attempt: 1, elapsedMs: 0, bounds, random: fixed(0.5) }).action, 'retry')
})

t.test('backoff ceilings double from the base and stop at the max', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffCeilingMs(retry, bounds)), [250, 500, 1000, 2000, 4000, 4000, 4000])
  t.equal(backoffCeilingMs(40, bounds), 4000, 'no overflow for large retry numbers')
  t.equal(backoffCeilingMs(3, { retryBaseMs: 300, retryMaxMs: 100 }), 300, 'never below the base')
})

t.test('full jitter: each wait lies in [base, ceiling], spread by random()', async (t) => {
  const many: RetryBounds = { ...bounds, maxAttempts: 10, deadlineMs: 1_000_000 }
  const cases: Array<[attempt: number, random: number, waitMs: number]> = [
    [1, LOWEST, 250], [1, HIGHEST, 250], // the first retry's ceiling is the base itself
    [2, LOWEST, 250], [2, 0.5, 375], [2, HIGHEST, 500],
    [3, LOWEST, 250], [3, 0.5, 625], [3, HIGHEST, 1000],
    [4, HIGHEST, 2000],
    [5, HIGHEST, 4000], [8, HIGHEST, 4000], [8, LOWEST, 250]
  ]
  for (const [attempt, random, waitMs] of cases) {
    for (const outcome of [unavailable, notSent]) {
      t.same(decideRetry({ outcome, attempt, elapsedMs: 0, bounds: many, random: fixed(random) }),
        { action: 'retry', waitMs }, `${outcome.kind}, after attempt ${attempt}, random ${random}`)
    }
  }
  t.equal((decideRetry({ outcome: unavailable, attempt: 3, elapsedMs: 0, bounds: many, random: fixed(1) }) as { waitMs: number }).waitMs,
    1000, 'a random() of exactly 1 still stays within the ceiling')
})

t.test('a Retry-After on a 503 is the wait, even above retryMaxMs', async (t) => {
  t.same(decideRetry({ outcome: { kind: 'unavailable', retryAfterMs: 3000 }, attempt: 1, elapsedMs: 0, bounds, random: fixed(0.5) }),
    { action: 'retry', waitMs: 3000 })
  t.same(decideRetry({ outcome: { kind: 'unavailable', retryAfterMs: 9000 }, attempt: 1, elapsedMs: 0, bounds, random: fixed(0.5) }),
    { action: 'retry', waitMs: 9000 })
  t.same(decideRetry({ outcome: { kind: 'unavailable', retryAfterMs: 0 }, attempt: 2, elapsedMs: 0, bounds, random: fixed(0.5) }),
    { action: 'retry', waitMs: 0 })
})

t.test('no wait runs, and no attempt starts, at or past the deadline', async (t) => {
  t.same(decideRetry({ outcome: { kind: 'unavailable', retryAfterMs: 10_000 }, attempt: 1, elapsedMs: 5000, bounds, random: fixed(0.5) }),
    { action: 'stop', reason: 'deadline', waitMs: 10_000 }, 'a Retry-After longer than the time left')
  t.same(decideRetry({ outcome: { kind: 'unavailable', retryAfterMs: 9999 }, attempt: 1, elapsedMs: 5000, bounds, random: fixed(0.5) }),
    { action: 'retry', waitMs: 9999 }, 'one millisecond left for the next attempt')
  t.same(decideRetry({ outcome: notSent, attempt: 3, elapsedMs: 14_500, bounds, random: fixed(HIGHEST) }),
    { action: 'stop', reason: 'deadline', waitMs: 1000 }, 'a jittered backoff longer than the time left')
  t.same(decideRetry({ outcome: unavailable, attempt: 1, elapsedMs: 15_000, bounds, random: fixed(LOWEST) }),
    { action: 'stop', reason: 'deadline', waitMs: 250 }, 'the deadline already passed')
})

t.test('maxAttempts counts the first attempt', async (t) => {
  t.equal(decideRetry({ outcome: unavailable, attempt: 3, elapsedMs: 0, bounds, random: fixed(0) }).action, 'retry')
  t.same(decideRetry({ outcome: unavailable, attempt: 4, elapsedMs: 0, bounds, random: fixed(0) }),
    { action: 'stop', reason: 'max_attempts', waitMs: 250 })
  t.same(decideRetry({ outcome: notSent, attempt: 1, elapsedMs: 0, bounds: { ...bounds, maxAttempts: 1 }, random: fixed(0) }),
    { action: 'stop', reason: 'max_attempts', waitMs: 250 }, 'maxAttempts 1 never retries')
})
