import t from 'tap'
import { startService } from '../helpers/service.ts'

t.test('healthy: both probes answer without a token and say nothing about the configuration', async (t) => {
  const { app, config } = await startService(t, { env: { RATE_LIMIT_IP_MAX: '1' } })
  for (let i = 0; i < 3; i++) {
    const live = await app.inject({ url: '/healthz' })
    t.equal(live.statusCode, 200, 'never rate-limited')
    t.same(live.json(), { status: 'ok' })
    const ready = await app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 200)
    t.same(ready.json(), { status: 'ready' })
    t.notOk(ready.body.includes(config.upstream.baseUrl), 'no configuration in the answer')
  }
  const audit = await app.auditStore.listEntries({ projectIds: '*' }, 10, null)
  t.equal(audit.items.length, 0, 'probes are not audited')
})

t.test('the audit store not writable: not ready', async (t) => {
  const { app } = await startService(t)
  await app.auditStore.close()
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'unavailable', reason: 'audit store not writable' })
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'still alive')
})

t.test('Redis configured but unreachable: not ready', async (t) => {
  const { app } = await startService(t, { env: { REDIS_URL: 'redis://127.0.0.1:1' } })
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'unavailable', reason: 'redis unreachable' })
})

t.test('Redis configured and reachable: ready', async (t) => {
  const { app } = await startService(t, { env: { REDIS_URL: 'redis://127.0.0.1:6379' } })
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
})
