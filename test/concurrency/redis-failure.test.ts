// Redis unreachable, dropped or hung: the idempotency store and the lock fail CLOSED, with
// ConcurrencyStoreUnavailableError, promptly (no command waits in a queue for Redis to return),
// and work again once Redis is back.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connectRedis, runKeyPrefix, TEST_REDIS_URL } from '../helpers/redis.ts'
import {
  ConcurrencyStoreUnavailableError,
  RedisIdempotencyStore,
  RedisInFlightLock,
  closeRedisConnection,
  createRedisConnection,
  waitForRedisReady,
  type IdempotencyClaim
} from '../../src/concurrency/index.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const REDIS_URL = TEST_REDIS_URL
const RUN_PREFIX = runKeyPrefix(t)
/** Generous bound that tells "fails fast" from "waits for Redis to come back". */
const PROMPTLY_MS = 2000

/** Asserts that `promise` rejects with the fail-closed error for `store`/`operation` within PROMPTLY_MS. */
async function failsClosed (t: Test, promise: Promise<unknown>, store: 'idempotency' | 'lock', operation: string): Promise<unknown> {
  const timeout = new AbortController()
  const outcome = await Promise.race([
    promise.then((value) => ({ settled: 'resolved' as const, value }), (error: unknown) => ({ settled: 'rejected' as const, error })),
    sleep(PROMPTLY_MS, { settled: 'pending' as const }, { signal: timeout.signal }).catch(() => ({ settled: 'pending' as const }))
  ])
  timeout.abort()
  if (outcome.settled === 'pending') {
    t.fail(`${store}.${operation} neither resolved nor rejected within ${PROMPTLY_MS} ms: it must fail fast`)
    return undefined
  }
  if (outcome.settled === 'resolved') {
    t.fail(`${store}.${operation} resolved (${JSON.stringify(outcome.value)}) while Redis was unavailable: it must fail closed`)
    return undefined
  }
  t.ok(outcome.error instanceof ConcurrencyStoreUnavailableError, `${store}.${operation} rejects with ConcurrencyStoreUnavailableError`)
  t.match(outcome.error, { store, operation, statusCode: 503, code: 'CONCURRENCY_STORE_UNAVAILABLE' })
  return outcome.error
}

/**
 * A TCP proxy in front of the real Redis that can be stopped and restarted (Redis goes away),
 * or paused (Redis hangs: commands are held, in order, until `resume()`).
 */
class RedisProxy {
  readonly #target: { host: string, port: number }
  readonly #sockets = new Set<net.Socket>()
  #server: net.Server | null = null
  port = 0
  readonly #held: Array<{ upstream: net.Socket, chunk: Buffer }> = []
  #paused = false

  constructor (redisUrl: string) {
    const url = new URL(redisUrl)
    this.#target = { host: url.hostname, port: Number(url.port || 6379) }
  }

  async start (): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.on('data', (chunk: Buffer) => {
        if (this.#paused) this.#held.push({ upstream, chunk })
        else upstream.write(chunk)
      })
      upstream.on('data', (chunk) => client.write(chunk))
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    server.listen(this.port, '127.0.0.1')
    await once(server, 'listening')
    this.port = (server.address() as net.AddressInfo).port
    this.#server = server
  }

  pause (): void {
    this.#paused = true
  }

  /** Delivers what was held, in order, and forwards again. */
  resume (): void {
    this.#paused = false
    for (const { upstream, chunk } of this.#held.splice(0)) upstream.write(chunk)
  }

  /** Stops listening and cuts every open connection (Redis "goes away"). */
  async stop (): Promise<void> {
    const server = this.#server
    this.#server = null
    this.#paused = false
    this.#held.length = 0
    for (const socket of this.#sockets) socket.destroy()
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

t.test('Redis unreachable (closed port): every operation fails closed at once', async (t) => {
  // a long command timeout: failing fast here must come from not queueing commands offline
  const redis = createRedisConnection('redis://127.0.0.1:1', { connectTimeoutMs: 200, commandTimeoutMs: 30_000 })
  t.teardown(() => closeRedisConnection(redis))
  const idempotency = new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX })
  const lock = new RedisInFlightLock({ redis, prefix: RUN_PREFIX })
  const claim: IdempotencyClaim = { scope: { subject: 's', key: 'k' }, fingerprint: 'f', token: 't' }

  const error = await failsClosed(t, idempotency.begin({ subject: 's', key: 'k' }, 'f'), 'idempotency', 'begin')
  t.ok((error as Error | undefined)?.cause, 'the ioredis error is kept as the cause')
  await failsClosed(t, idempotency.complete(claim, { status: 200, headers: {}, body: {} }), 'idempotency', 'complete')
  await failsClosed(t, idempotency.abandon(claim), 'idempotency', 'abandon')
  await failsClosed(t, lock.acquire('p:v', 1000), 'lock', 'acquire')
  await failsClosed(t, lock.release({ key: 'p:v', token: 't' }), 'lock', 'release')

  // still failing fast later, while ioredis keeps reconnecting in the background
  await sleep(300)
  await failsClosed(t, idempotency.begin({ subject: 's', key: 'k' }, 'f'), 'idempotency', 'begin')
  await failsClosed(t, lock.acquire('p:v', 1000), 'lock', 'acquire')

  await t.rejects(waitForRedisReady(redis, 300), /not ready after 300 ms/, 'waitForRedisReady gives up after its timeout')
})

t.test('Redis accepts connections but never answers: commands are not queued behind the handshake', async (t) => {
  const sockets = new Set<net.Socket>()
  const silent = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}) })
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })
  const port = (silent.address() as net.AddressInfo).port
  const redis = createRedisConnection(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 })
  t.teardown(() => closeRedisConnection(redis))
  await once(silent, 'connection')
  const idempotency = new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX })
  const lock = new RedisInFlightLock({ redis, prefix: RUN_PREFIX })
  await failsClosed(t, idempotency.begin({ subject: 's', key: 'k' }, 'f'), 'idempotency', 'begin')
  await failsClosed(t, lock.acquire('p:v', 1000), 'lock', 'acquire')
})

/** The idempotency store and the lock, on a connection to Redis through a proxy the test controls. */
async function storesBehindProxy (t: Test, commandTimeoutMs: number) {
  const proxy = new RedisProxy(REDIS_URL)
  await proxy.start()
  t.teardown(() => proxy.stop())
  const redis = await connectRedis(t, `redis://127.0.0.1:${proxy.port}`, { commandTimeoutMs })
  return { proxy, redis, idempotency: new RedisIdempotencyStore({ redis, prefix: RUN_PREFIX }), lock: new RedisInFlightLock({ redis, prefix: RUN_PREFIX }) }
}

t.test('Redis goes away and comes back', async (t) => {
  // a long command timeout: failing fast here must come from not queueing or retrying commands
  const { proxy, redis, idempotency, lock } = await storesBehindProxy(t, 30_000)
  const scope = { subject: 'user', key: randomUUID() }

  const started = await idempotency.begin(scope, 'f')
  if (started.state !== 'started') return t.fail(`expected started, got ${started.state}`)
  const lease = await lock.acquire('p:v', 60_000)
  if (lease === null) return t.fail('expected a lease')

  // a command in flight when the connection drops is rejected, not kept for a reconnect
  proxy.pause()
  const pending = idempotency.begin({ subject: 'user', key: randomUUID() }, 'f')
  const closed = once(redis, 'close')
  await sleep(20)
  await proxy.stop()
  await closed
  await failsClosed(t, pending, 'idempotency', 'begin')

  // while it is down, nothing is allowed through
  await failsClosed(t, idempotency.begin(scope, 'f'), 'idempotency', 'begin')
  await failsClosed(t, idempotency.complete(started.claim, { status: 200, headers: {}, body: {} }), 'idempotency', 'complete')
  await failsClosed(t, lock.acquire('p:v', 60_000), 'lock', 'acquire')
  await failsClosed(t, lock.acquire('p:other', 60_000), 'lock', 'acquire')
  await failsClosed(t, lock.release(lease), 'lock', 'release')

  // back on the same address: the client reconnects by itself, and the state held in Redis is intact
  await proxy.start()
  await waitForRedisReady(redis, 5000)
  t.same(await idempotency.begin(scope, 'f'), { state: 'in_flight' }, 'the marker written before the outage still holds')
  t.equal(await lock.acquire('p:v', 60_000), null, 'the lock taken before the outage still holds')
  t.equal(await idempotency.complete(started.claim, { status: 200, headers: {}, body: { ok: true } }), true)
  t.same(await idempotency.begin(scope, 'f'), { state: 'replay', response: { status: 200, headers: {}, body: { ok: true } } })
  t.equal(await lock.release(lease), true)
})

t.test('Redis hangs (no answers): commands time out and fail closed', async (t) => {
  const { proxy, idempotency, lock } = await storesBehindProxy(t, 200)

  proxy.pause()
  const scope = { subject: 'u', key: randomUUID() }
  const error = await failsClosed(t, idempotency.begin(scope, 'f'), 'idempotency', 'begin')
  t.match((error as Error | undefined)?.cause, { message: /timed out/i }, 'the cause is the command timeout')
  const lockKey = `p:${randomUUID()}`
  await failsClosed(t, lock.acquire(lockKey, 60_000), 'lock', 'acquire')

  // Redis answers again; the timed-out commands ran late. Reported as failures, they leave
  // their keys held by nobody until the lease ends: closed, never open.
  proxy.resume()
  t.same(await idempotency.begin(scope, 'f'), { state: 'in_flight' }, 'the late begin holds its key until its lease ends')
  t.equal(await lock.acquire(lockKey, 60_000), null, 'the late acquire holds its lock until its lease ends')
  t.equal((await idempotency.begin({ subject: 'u', key: randomUUID() }, 'f')).state, 'started', 'other keys work again')
  t.ok(await lock.acquire(`p:${randomUUID()}`, 60_000), 'other locks work again')
})
