import t from 'tap'
import {
  RETRY_BUDGET_BUCKETS,
  RETRY_BUDGET_MIN_RETRIES,
  RETRY_BUDGET_RATIO,
  RETRY_BUDGET_WINDOW_MS,
  RetryBudget
} from '../../src/upstream/retry-budget.ts'

t.test('defaults', async (t) => {
  t.equal(RETRY_BUDGET_RATIO, 0.2)
  t.equal(RETRY_BUDGET_WINDOW_MS, 10_000)
  t.equal(RETRY_BUDGET_MIN_RETRIES, 10)
  t.equal(RETRY_BUDGET_BUCKETS, 10)
  const budget = new RetryBudget({ now: () => 0 })
  t.same(budget.snapshot(), { requests: 0, retries: 0, allowed: 10, remaining: 10 })
})

t.test('the minimum per window allows retries at low traffic, and no more', async (t) => {
  const budget = new RetryBudget({ ratio: 0.2, windowMs: 10_000, minRetriesPerWindow: 3, now: () => 0 })
  budget.recordRequest()
  t.equal(budget.tryRetry(), true)
  t.equal(budget.tryRetry(), true)
  t.equal(budget.tryRetry(), true)
  t.equal(budget.tryRetry(), false, 'the fourth retry is refused')
  t.same(budget.snapshot(), { requests: 1, retries: 3, allowed: 3, remaining: 0 }, 'a refused retry is not counted')
})

t.test('under load, retries are bounded by the ratio of first attempts', async (t) => {
  const budget = new RetryBudget({ ratio: 0.2, windowMs: 10_000, minRetriesPerWindow: 3, now: () => 500 })
  for (let i = 0; i < 100; i++) budget.recordRequest()
  // a 503 storm: every request would retry 3 times
  let granted = 0
  for (let i = 0; i < 300; i++) if (budget.tryRetry()) granted++
  t.equal(granted, 20, '20 % of 100 first attempts')
  t.same(budget.snapshot(), { requests: 100, retries: 20, allowed: 20, remaining: 0 })
  for (let i = 0; i < 5; i++) budget.recordRequest()
  t.equal(budget.tryRetry(), true, 'five more first attempts earn one more retry')
  t.equal(budget.tryRetry(), false)
})

t.test('the window slides: old attempts and retries stop counting', async (t) => {
  let now = 0
  const budget = new RetryBudget({ ratio: 0.5, windowMs: 10_000, buckets: 10, minRetriesPerWindow: 0, now: () => now })
  for (let i = 0; i < 10; i++) budget.recordRequest() // bucket [0, 1000)
  for (let i = 0; i < 5; i++) t.equal(budget.tryRetry(), true)
  t.equal(budget.tryRetry(), false, 'spent')
  now = 5_000
  for (let i = 0; i < 4; i++) budget.recordRequest() // bucket [5000, 6000)
  t.equal(budget.tryRetry(), true, 'the new attempts earn more')
  t.equal(budget.tryRetry(), true)
  t.equal(budget.tryRetry(), false)
  t.same(budget.snapshot(), { requests: 14, retries: 7, allowed: 7, remaining: 0 })
  now = 9_999
  t.same(budget.snapshot(), { requests: 14, retries: 7, allowed: 7, remaining: 0 }, 'still within the window')
  now = 10_000
  t.same(budget.snapshot(), { requests: 4, retries: 2, allowed: 2, remaining: 0 }, 'the first bucket left the window')
  now = 15_000
  t.same(budget.snapshot(), { requests: 0, retries: 0, allowed: 0, remaining: 0 }, 'everything left the window')
  budget.recordRequest()
  budget.recordRequest()
  t.equal(budget.tryRetry(), true, 'a reused bucket starts from zero')
  t.same(budget.snapshot(), { requests: 2, retries: 1, allowed: 1, remaining: 0 })
})

t.test('a long pause clears every bucket', async (t) => {
  let now = 0
  const budget = new RetryBudget({ ratio: 1, windowMs: 1000, buckets: 4, minRetriesPerWindow: 0, now: () => now })
  for (let i = 0; i < 8; i++) budget.recordRequest()
  now = 1_000_000 // the same bucket index, many windows later
  t.same(budget.snapshot(), { requests: 0, retries: 0, allowed: 0, remaining: 0 })
  t.equal(budget.tryRetry(), false)
})

t.test('settings are validated', async (t) => {
  t.throws(() => new RetryBudget({ ratio: -0.1 }), RangeError)
  t.throws(() => new RetryBudget({ windowMs: 0 }), RangeError)
  t.throws(() => new RetryBudget({ minRetriesPerWindow: 1.5 }), RangeError)
  t.throws(() => new RetryBudget({ buckets: 0 }), RangeError)
})
