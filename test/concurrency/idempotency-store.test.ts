import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connectRedis, runKeyPrefix } from '../helpers/redis.ts'
import {
  ConcurrencyStoreUnavailableError,
  MemoryIdempotencyStore,
  MemoryInFlightLock,
  RedisIdempotencyStore,
  RedisInFlightLock,
  createConcurrencyStores,
  pickReplayableHeaders,
  requestFingerprint,
  type IdempotencyStore,
  type StoredResponse
} from '../../src/concurrency/index.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const RUN_PREFIX = runKeyPrefix(t)

interface Harness {
  /** A store with these timings; every store made by one harness shares state. */
  make: (timings?: { ttlMs?: number, leaseMs?: number }) => IdempotencyStore
  /** Lets `ms` pass for the store's clock. */
  advance: (ms: number) => Promise<void>
}

let scopeCounter = 0
function freshScope (): { subject: string, key: string } {
  scopeCounter++
  return { subject: `user-${scopeCounter}|ü:x`, key: `key:${scopeCounter} with spaces/and:colons` }
}

const fp = (body: unknown, path = '/v1/projects/p1/live-videos/v1/cut'): string => requestFingerprint({ method: 'POST', path, body })

const okResponse: StoredResponse = {
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-upstream-attempts': '2' },
  body: { videoPublicId: 'vod-1', requestId: 'req-1', auditId: 'a-1' }
}

/** The same claims, run against each implementation. */
async function storeSuite (t: Test, harness: Harness): Promise<void> {
  t.test('begin, complete, replay', async (t) => {
    const store = harness.make()
    const scope = freshScope()
    const first = await store.begin(scope, fp({ startMs: 1, endMs: 2 }))
    t.equal(first.state, 'started')
    if (first.state !== 'started') return
    t.same(first.claim.scope, scope)
    t.equal(await store.complete(first.claim, okResponse), true)
    // key order in the body does not matter; the stored response comes back whole
    const again = await store.begin(scope, fp({ endMs: 2, startMs: 1 }))
    t.same(again, { state: 'replay', response: okResponse })
    t.same(await store.begin(scope, fp({ endMs: 2, startMs: 1 })), { state: 'replay', response: okResponse }, 'replays every time')
    // scoped by subject: another subject with the same key starts afresh
    const other = await store.begin({ subject: `${scope.subject}-other`, key: scope.key }, fp({ startMs: 1, endMs: 2 }))
    t.equal(other.state, 'started')
  })

  t.test('problem responses replay too', async (t) => {
    const store = harness.make()
    const scope = freshScope()
    const started = await store.begin(scope, fp({}))
    if (started.state !== 'started') return t.fail(`expected started, got ${started.state}`)
    const problem: StoredResponse = {
      status: 504,
      headers: { 'content-type': 'application/problem+json' },
      body: { type: 'about:blank', title: 'Gateway Timeout', status: 504, detail: 'outcome unknown', requestId: 'r' }
    }
    await store.complete(started.claim, problem)
    t.same(await store.begin(scope, fp({})), { state: 'replay', response: problem })
  })

  t.test('same key, other fingerprint: mismatch, in flight and after completion', async (t) => {
    const store = harness.make()
    const scope = freshScope()
    const started = await store.begin(scope, fp({ startMs: 1, endMs: 2 }))
    if (started.state !== 'started') return t.fail(`expected started, got ${started.state}`)
    t.same(await store.begin(scope, fp({ startMs: 1, endMs: 3 })), { state: 'mismatch' }, 'other body while in flight')
    t.same(await store.begin(scope, fp({ startMs: 1, endMs: 2 }, '/v1/projects/p1/live-videos/v2/cut')), { state: 'mismatch' }, 'other path')
    await store.complete(started.claim, okResponse)
    t.same(await store.begin(scope, fp({ startMs: 1, endMs: 3 })), { state: 'mismatch' }, 'other body after completion')
    t.same(await store.begin(scope, fp({ startMs: 1, endMs: 2 })), { state: 'replay', response: okResponse }, 'the record is untouched')
  })

  t.test('in flight until completed or abandoned', async (t) => {
    const store = harness.make()
    const scope = freshScope()
    const first = await store.begin(scope, fp({}))
    if (first.state !== 'started') return t.fail(`expected started, got ${first.state}`)
    t.same(await store.begin(scope, fp({})), { state: 'in_flight' })
    t.same(await store.begin(scope, fp(undefined)), { state: 'in_flight' }, 'an absent body is {}')
    t.equal(await store.abandon(first.claim), true, 'abandon releases the key')
    const second = await store.begin(scope, fp({}))
    t.equal(second.state, 'started', 'the key can be used again at once')
    if (second.state !== 'started') return
    t.not(second.claim.token, first.claim.token)
    t.equal(await store.abandon(first.claim), false, 'a stale claim cannot release the new owner')
    t.equal(await store.complete(first.claim, okResponse), false, 'nor complete over it')
    t.same(await store.begin(scope, fp({})), { state: 'in_flight' }, 'the new owner still holds it')
    t.equal(await store.complete(second.claim, okResponse), true)
    t.equal(await store.abandon(second.claim), false, 'a completed record cannot be abandoned')
    t.same(await store.begin(scope, fp({})), { state: 'replay', response: okResponse })
  })

  t.test('an in-flight marker expires with its lease', async (t) => {
    const store = harness.make({ leaseMs: 100 })
    const scope = freshScope()
    const first = await store.begin(scope, fp({}))
    if (first.state !== 'started') return t.fail(`expected started, got ${first.state}`)
    t.same(await store.begin(scope, fp({})), { state: 'in_flight' })
    await harness.advance(250)
    const second = await store.begin(scope, fp({}))
    t.equal(second.state, 'started', 'a crashed owner does not block the key after its lease')
    if (second.state !== 'started') return
    t.equal(await store.complete(first.claim, okResponse), false, 'the late first owner cannot overwrite the new marker')
    t.equal(await store.complete(second.claim, { ...okResponse, status: 201 }), true)
    const replay = await store.begin(scope, fp({}))
    t.equal(replay.state === 'replay' && replay.response.status, 201)
  })

  t.test('a late complete still stores when nobody took the key over', async (t) => {
    const store = harness.make({ leaseMs: 100 })
    const scope = freshScope()
    const first = await store.begin(scope, fp({}))
    if (first.state !== 'started') return t.fail(`expected started, got ${first.state}`)
    await harness.advance(250)
    t.equal(await store.complete(first.claim, okResponse), true)
    t.same(await store.begin(scope, fp({})), { state: 'replay', response: okResponse })
  })

  t.test('a final record expires after its ttl', async (t) => {
    const store = harness.make({ ttlMs: 100, leaseMs: 60_000 })
    const scope = freshScope()
    const first = await store.begin(scope, fp({}))
    if (first.state !== 'started') return t.fail(`expected started, got ${first.state}`)
    await store.complete(first.claim, okResponse)
    t.equal((await store.begin(scope, fp({}))).state, 'replay')
    await harness.advance(250)
    t.equal((await store.begin(scope, fp({ other: true }))).state, 'started', 'the key is free again, for any body')
  })

  t.test('concurrent begins of one key: exactly one started', async (t) => {
    const store = harness.make()
    const scope = freshScope()
    const results = await Promise.all(Array.from({ length: 50 }, async () => await store.begin(scope, fp({}))))
    t.equal(results.filter((r) => r.state === 'started').length, 1)
    t.equal(results.filter((r) => r.state === 'in_flight').length, 49)
  })

  t.test('rejects a response it could not replay faithfully', async (t) => {
    const store = harness.make()
    const first = await store.begin(freshScope(), fp({}))
    if (first.state !== 'started') return t.fail(`expected started, got ${first.state}`)
    await t.rejects(store.complete(first.claim, { status: 42, headers: {}, body: null }), TypeError)
    await t.rejects(store.complete(first.claim, { status: 200, headers: { 'x-n': 1 as unknown as string }, body: null }), TypeError)
    t.equal(await store.abandon(first.claim), true, 'the marker is still there after a rejected complete')
  })
}

t.test('memory store', async (t) => {
  let now = 1_000_000
  const store = new Map<string, MemoryIdempotencyStore>()
  await storeSuite(t, {
    make: (timings = {}) => {
      // one store per timing setting, so stores made alike share state (like one process)
      const id = JSON.stringify(timings)
      let s = store.get(id)
      if (s === undefined) {
        s = new MemoryIdempotencyStore({ ...timings, now: () => now })
        store.set(id, s)
      }
      return s
    },
    advance: async (ms) => { now += ms }
  })

  t.test('bounded: expired records go first, then the oldest final ones; never in-flight ones', async (t) => {
    const clock = 0
    const s = new MemoryIdempotencyStore({ maxEntries: 3, leaseMs: 1000, ttlMs: 10_000, now: () => clock })
    const a = await s.begin({ subject: 's', key: 'a' }, 'f')
    const b = await s.begin({ subject: 's', key: 'b' }, 'f')
    const c = await s.begin({ subject: 's', key: 'c' }, 'f')
    if (a.state !== 'started' || b.state !== 'started' || c.state !== 'started') return t.fail('expected three starts')
    await s.complete(a.claim, okResponse)
    await s.complete(b.claim, okResponse)
    // full: c in flight, a and b done (a older). A new key evicts a.
    t.equal((await s.begin({ subject: 's', key: 'd' }, 'f')).state, 'started')
    t.equal(s.size, 3)
    t.equal((await s.begin({ subject: 's', key: 'b' }, 'f')).state, 'replay', 'the newer final record b is kept')
    t.equal((await s.begin({ subject: 's', key: 'a' }, 'f')).state, 'started', 'the oldest final record a was evicted: its key is new again')
    t.equal((await s.begin({ subject: 's', key: 'c' }, 'f')).state, 'in_flight', 'in-flight c was never evicted')
    // now c, d, a are all in flight: nothing may be evicted
    await t.rejects(s.begin({ subject: 's', key: 'e' }, 'f'), { name: 'ConcurrencyStoreUnavailableError', store: 'idempotency', operation: 'begin' })
    t.equal(s.size, 3)
  })

  t.test('bounded: full of in-flight markers fails closed', async (t) => {
    let clock = 0
    const s = new MemoryIdempotencyStore({ maxEntries: 2, leaseMs: 1000, now: () => clock })
    await s.begin({ subject: 's', key: 'a' }, 'f')
    await s.begin({ subject: 's', key: 'b' }, 'f')
    await t.rejects(s.begin({ subject: 's', key: 'c' }, 'f'), ConcurrencyStoreUnavailableError)
    clock += 1000
    t.equal((await s.begin({ subject: 's', key: 'c' }, 'f')).state, 'started', 'expired markers are swept to make room')
    t.equal(s.size, 1)
  })
})

t.test('redis store', async (t) => {
  const redis = await connectRedis(t)
  await storeSuite(t, {
    make: (timings = {}) => new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX, ...timings }),
    advance: async (ms) => { await sleep(ms) }
  })

  t.test('key layout and expiry set in Redis', async (t) => {
    const store = new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX, leaseMs: 30_000 })
    const scope = { subject: 'a:b', key: 'c:d' }
    t.equal(store.keyOf(scope), `${RUN_PREFIX}idem:a%3Ab:c%3Ad`, 'parts are encoded, so subject a:b key c:d ≠ subject a key b:c:d')
    t.not(store.keyOf(scope), store.keyOf({ subject: 'a', key: 'b:c:d' }))
    const started = await store.begin(scope, 'f')
    if (started.state !== 'started') return t.fail(`expected started, got ${started.state}`)
    const leaseTtl = await redis.pttl(store.keyOf(scope))
    t.ok(leaseTtl > 0 && leaseTtl <= 30_000, `in-flight marker carries the lease (${leaseTtl} ms)`)
    await store.complete(started.claim, okResponse)
    const finalTtl = await redis.pttl(store.keyOf(scope))
    t.ok(finalTtl > 30_000 && finalTtl <= 24 * 3600 * 1000, `final record kept for 24 h (${finalTtl} ms)`)
    t.same(await redis.hgetall(store.keyOf(scope)), {
      state: 'done',
      fp: 'f',
      token: started.claim.token,
      response: JSON.stringify(okResponse)
    })
  })

  t.test('two instances with separate connections share records', async (t) => {
    const redisB = await connectRedis(t)
    const a = new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX })
    const b = new RedisIdempotencyStore({ redis: redisB, prefix: RUN_PREFIX })
    const scope = freshScope()
    const started = await a.begin(scope, fp({}))
    if (started.state !== 'started') return t.fail(`expected started, got ${started.state}`)
    t.same(await b.begin(scope, fp({})), { state: 'in_flight' }, 'B sees A in flight')
    t.same(await b.begin(scope, fp({ x: 1 })), { state: 'mismatch' }, 'B sees the fingerprint')
    await a.complete(started.claim, okResponse)
    t.same(await b.begin(scope, fp({})), { state: 'replay', response: okResponse }, 'B replays what A stored')

    // a double tap landing on both instances at once
    const tap = freshScope()
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await (i % 2 === 0 ? a : b).begin(tap, fp({}))))
    t.equal(results.filter((r) => r.state === 'started').length, 1, 'exactly one started across instances')
    t.equal(results.filter((r) => r.state === 'in_flight').length, 39)
    // an abandon on one instance frees the key for the other
    const owner = results.find((r) => r.state === 'started')
    if (owner?.state !== 'started') return
    t.equal(await b.abandon(owner.claim), true, 'the claim works on any instance')
    t.equal((await a.begin(tap, fp({}))).state, 'started')
  })

  t.test('a replay record that cannot be read fails closed', async (t) => {
    const store = new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX })
    const scope = freshScope()
    await redis.hset(store.keyOf(scope), 'state', 'done', 'fp', 'f', 'token', 't', 'response', '{not json')
    await redis.pexpire(store.keyOf(scope), 60_000)
    await t.rejects(store.begin(scope, 'f'), { name: 'ConcurrencyStoreUnavailableError', store: 'idempotency', operation: 'begin' })
  })
})

t.test('createConcurrencyStores picks Redis only when given a connection', async (t) => {
  const memory = createConcurrencyStores()
  t.ok(memory.lock instanceof MemoryInFlightLock)
  t.ok(memory.idempotency instanceof MemoryIdempotencyStore)
  const redis = await connectRedis(t)
  const stores = createConcurrencyStores({ redis, prefix: RUN_PREFIX })
  t.ok(stores.lock instanceof RedisInFlightLock)
  t.ok(stores.idempotency instanceof RedisIdempotencyStore)
})

t.test('pickReplayableHeaders keeps the replayable subset, lower-cased', async (t) => {
  t.same(pickReplayableHeaders({
    'Content-Type': 'application/json',
    'X-Upstream-Attempts': 3,
    'x-request-id': 'r1',
    'set-cookie': ['a', 'b'],
    'Retry-After': '5',
    'x-missing': undefined
  }), { 'content-type': 'application/json', 'x-upstream-attempts': '3', 'retry-after': '5' })
})
