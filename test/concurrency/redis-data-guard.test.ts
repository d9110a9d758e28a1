// The guard that notices a Redis which restarted or lost data, on a redis-server of this test's
// own: a first start trusts an empty Redis, a reconnect to the same data changes nothing, a
// restart without persistence shuts new keys and locks for the quarantine (for an instance
// started afterwards too), so does a restart that kept the data (its last writes may be lost),
// and a Redis that cannot be checked is never trusted.
import { once } from 'node:events'
import t from 'tap'
import { ConcurrencyStoreUnavailableError, RedisDataGuard } from '../../src/concurrency/index.ts'
import { createRedisServer } from '../helpers/redis-server.ts'
import { connectRedis } from '../helpers/redis.ts'
import { eventually } from '../controls/support.ts'

const QUARANTINE_MS = 90_000

t.test('restart empty → quarantine; reconnect to the same data → none', async (t) => {
  const server = await createRedisServer(t)
  await server.start()
  let time = 1_000_000
  const losses: number[] = []
  const redis = await connectRedis(t, server.url)
  const guard = new RedisDataGuard({ redis, quarantineMs: QUARANTINE_MS, now: () => time, onDataLoss: (ms) => losses.push(ms) })

  await guard.assertTrusted('lock', 'acquire')
  t.equal(guard.quarantineLeftMs(), 0, 'a first start trusts an empty Redis')
  t.type(await redis.get('livecut:epoch'), 'string', 'and leaves its epoch there')

  const reconnected = once(redis, 'ready')
  redis.disconnect(true)
  await reconnected
  await guard.assertTrusted('lock', 'acquire')
  t.same(losses, [], 'a reconnect to the same data is no loss')

  await server.kill()
  await eventually('the client saw Redis go', () => redis.status !== 'ready')
  await t.rejects(guard.assertTrusted('lock', 'acquire'), ConcurrencyStoreUnavailableError, 'while Redis is gone: fail closed')
  await server.start()
  await eventually('the client reconnected', () => redis.status === 'ready', 20_000)
  await t.rejects(guard.assertTrusted('idempotency', 'begin'), { name: 'ConcurrencyStoreUnavailableError', store: 'idempotency', message: /restarted or lost data/ }, 'after a restart without persistence: refused')
  t.equal(losses.length, 1, 'the loss was reported once')
  t.ok((losses[0] as number) > QUARANTINE_MS - 5_000 && (losses[0] as number) <= QUARANTINE_MS, `with the quarantine (${losses[0]} ms)`)
  const pttl = await redis.pttl('livecut:quarantine')
  t.ok(pttl > 0 && pttl <= QUARANTINE_MS, 'the quarantine is in Redis, for the other instances')

  // An instance started after the loss (it never saw the old data) honours the quarantine too.
  const late = await connectRedis(t, server.url)
  const lateGuard = new RedisDataGuard({ redis: late, quarantineMs: QUARANTINE_MS, now: () => time })
  await t.rejects(lateGuard.assertTrusted('lock', 'acquire'), ConcurrencyStoreUnavailableError, 'a later instance is refused too')

  time += guard.quarantineLeftMs()
  await guard.assertTrusted('lock', 'acquire')
  t.equal(guard.quarantineLeftMs(), 0, 'after the quarantine: trusted again')
  time += lateGuard.quarantineLeftMs()
  await lateGuard.assertTrusted('lock', 'acquire')
})

t.test('a Redis the guard could not check is never trusted', async (t) => {
  const server = await createRedisServer(t)
  await server.start()
  const redis = await connectRedis(t, server.url)
  await server.kill()
  await eventually('the client saw Redis go', () => redis.status !== 'ready')
  const guard = new RedisDataGuard({ redis, quarantineMs: QUARANTINE_MS })
  await t.rejects(guard.assertTrusted('lock', 'acquire'), ConcurrencyStoreUnavailableError, 'unchecked: fail closed')
})

t.test('a restart that kept the data (the epoch is back) is still a quarantine: its last writes may be lost', async (t) => {
  const server = await createRedisServer(t)
  await server.start()
  const redis = await connectRedis(t, server.url)
  const losses: number[] = []
  const guard = new RedisDataGuard({ redis, quarantineMs: QUARANTINE_MS, onDataLoss: (ms) => losses.push(ms) })
  await guard.assertTrusted('lock', 'acquire')
  const epoch = await redis.get('livecut:epoch') as string

  redis.disconnect(false)
  await server.kill()
  await server.start()
  // What persistence would have restored, written before the guard's client is back.
  const restorer = await connectRedis(t, server.url)
  await restorer.set('livecut:epoch', epoch)
  await redis.connect()
  await t.rejects(guard.assertTrusted('lock', 'acquire'), { message: /restarted or lost data/ }, 'a new run_id: refused')
  t.equal(losses.length, 1)
  t.equal(await restorer.get('livecut:epoch'), epoch, 'the epoch was kept')
})

t.test('where an ACL forbids INFO, the epoch alone tells a loss', async (t) => {
  const server = await createRedisServer(t)
  await server.start()
  const admin = await connectRedis(t, server.url)
  await admin.call('ACL', 'SETUSER', 'no-info', 'on', '>no-info-pass', '~*', '+@all', '-info')
  const redis = await connectRedis(t, `redis://no-info:no-info-pass@127.0.0.1:${server.port}`)
  await t.rejects(redis.info('server'), /NOPERM/, 'INFO is forbidden to this user')
  const losses: number[] = []
  const guard = new RedisDataGuard({ redis, quarantineMs: QUARANTINE_MS, onDataLoss: (ms) => losses.push(ms) })
  await guard.assertTrusted('lock', 'acquire')
  t.same(losses, [], 'trusted without INFO')

  await admin.del('livecut:epoch')
  const reconnected = once(redis, 'ready')
  redis.disconnect(true)
  await reconnected
  await t.rejects(guard.assertTrusted('lock', 'acquire'), { message: /restarted or lost data/ }, 'the epoch gone: refused')
  t.equal(losses.length, 1)
})
