import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connectRedis, runKeyPrefix } from '../helpers/redis.ts'
import {
  MemoryInFlightLock,
  RedisInFlightLock,
  videoLockKey,
  type InFlightLock
} from '../../src/concurrency/index.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const RUN_PREFIX = runKeyPrefix(t)

let videoCounter = 0
const freshKey = (): string => videoLockKey('project-1', `video-${++videoCounter}`)

interface Harness {
  /** A lock; every lock made by one harness shares state. */
  make: () => InFlightLock
  advance: (ms: number) => Promise<void>
}

async function lockSuite (t: Test, harness: Harness): Promise<void> {
  t.test('acquire, held, release, acquire again', async (t) => {
    const lock = harness.make()
    const key = freshKey()
    const lease = await lock.acquire(key, 60_000)
    t.ok(lease, 'first acquire gets a lease')
    if (lease === null) return
    t.equal(lease.key, key)
    t.equal(await lock.acquire(key, 60_000), null, 'held: a second acquire gets null')
    t.ok(await lock.acquire(freshKey(), 60_000), 'another video is independent')
    t.equal(await lock.release(lease), true)
    const again = await lock.acquire(key, 60_000)
    t.ok(again, 'free again after release')
    t.not(again?.token, lease.token, 'each lease has its own token')
  })

  t.test('release frees only its own lease', async (t) => {
    const lock = harness.make()
    const key = freshKey()
    const lease = await lock.acquire(key, 60_000)
    if (lease === null) return t.fail('expected a lease')
    t.equal(await lock.release({ key, token: 'forged' }), false, 'a foreign token does not release')
    t.equal(await lock.acquire(key, 60_000), null, 'still held')
    t.equal(await lock.release(lease), true)
    t.equal(await lock.release(lease), false, 'releasing twice is a no-op')
  })

  t.test('a lease expires, and the expired holder cannot free the next one', async (t) => {
    const lock = harness.make()
    const key = freshKey()
    const first = await lock.acquire(key, 100)
    if (first === null) return t.fail('expected a lease')
    t.equal(await lock.acquire(key, 100), null)
    await harness.advance(250)
    const second = await lock.acquire(key, 60_000)
    t.ok(second, 'a crashed holder does not hold the video forever')
    t.equal(await lock.release(first), false, 'the expired lease releases nothing')
    t.equal(await lock.acquire(key, 60_000), null, 'the second holder still holds it')
    if (second !== null) t.equal(await lock.release(second), true)
  })

  t.test('concurrent acquires of one video: exactly one lease', async (t) => {
    const lock = harness.make()
    const key = freshKey()
    const results = await Promise.all(Array.from({ length: 50 }, async () => await lock.acquire(key, 60_000)))
    t.equal(results.filter((r) => r !== null).length, 1)
  })

  t.test('leaseMs is validated', async (t) => {
    const lock = harness.make()
    await t.rejects(lock.acquire(freshKey(), 0), RangeError)
    await t.rejects(lock.acquire(freshKey(), Number.NaN), RangeError)
  })
}

t.test('videoLockKey', async (t) => {
  t.equal(videoLockKey('p-1', 'v_2'), 'p-1:v_2')
  t.not(videoLockKey('a', 'b:c'), videoLockKey('a:b', 'c'), 'unambiguous even for ids outside the route pattern')
})

t.test('memory lock', async (t) => {
  let now = 5_000
  const shared = new MemoryInFlightLock({ now: () => now })
  await lockSuite(t, { make: () => shared, advance: async (ms) => { now += ms } })

  t.test('uses its default lease', async (t) => {
    let clock = 0
    const lock = new MemoryInFlightLock({ leaseMs: 1000, now: () => clock })
    t.ok(await lock.acquire('k'))
    clock = 999
    t.equal(await lock.acquire('k'), null)
    clock = 1000
    t.ok(await lock.acquire('k'), 'expired exactly at the lease')
  })

  t.test('bounded: sweeps expired leases, fails closed when full of live ones', async (t) => {
    let clock = 0
    const lock = new MemoryInFlightLock({ leaseMs: 1000, maxEntries: 2, now: () => clock })
    await lock.acquire('a')
    await lock.acquire('b')
    await t.rejects(lock.acquire('c'), { name: 'ConcurrencyStoreUnavailableError', store: 'lock', operation: 'acquire' })
    clock = 1000
    t.ok(await lock.acquire('c'), 'expired leases make room')
    t.equal(lock.size, 1)
  })
})

t.test('redis lock', async (t) => {
  const redis = await connectRedis(t)
  await lockSuite(t, { make: () => new RedisInFlightLock({ redis, prefix: RUN_PREFIX }), advance: async (ms) => { await sleep(ms) } })

  t.test('key layout: SET NX PX with the token as value', async (t) => {
    const lock = new RedisInFlightLock({ redis, prefix: RUN_PREFIX, leaseMs: 30_000 })
    const key = freshKey()
    t.equal(lock.redisKeyOf(key), `${RUN_PREFIX}lock:${key}`)
    const lease = await lock.acquire(key)
    if (lease === null) return t.fail('expected a lease')
    t.equal(await redis.get(lock.redisKeyOf(key)), lease.token)
    const ttl = await redis.pttl(lock.redisKeyOf(key))
    t.ok(ttl > 0 && ttl <= 30_000, `the default lease is set (${ttl} ms)`)
  })

  t.test('two instances with separate connections share locks', async (t) => {
    const redisB = await connectRedis(t)
    const a = new RedisInFlightLock({ redis, prefix: RUN_PREFIX })
    const b = new RedisInFlightLock({ redis: redisB, prefix: RUN_PREFIX })
    const key = freshKey()
    const lease = await a.acquire(key, 60_000)
    if (lease === null) return t.fail('expected a lease')
    t.equal(await b.acquire(key, 60_000), null, 'B sees A holding the video')
    t.equal(await b.release({ key, token: 'not-a' }), false)
    t.equal(await b.release(lease), true, 'the lease can be released through any instance')
    t.ok(await b.acquire(key, 60_000), 'B gets it once A released')

    const contested = freshKey()
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await (i % 2 === 0 ? a : b).acquire(contested, 60_000)))
    t.equal(results.filter((r) => r !== null).length, 1, 'exactly one lease across instances')
  })
})
