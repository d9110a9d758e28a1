// JWKS verification against a real identity provider on a loopback port that counts its
// fetches: the whole set is held, unknown kids refetch it at most once per cool-down (so a flood
// of random kids costs the provider one fetch), a rotated-in key verifies once the cool-down
// has passed, an old set is refreshed, and a provider that is down is a 503, not a 401.
// The service's clock is injected: the test ticks it instead of waiting.
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createPublicKey, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { JWKS_COOLDOWN_MS, JWKS_FAILURE_RETRY_MS, JWKS_MAX_AGE_MS } from '../../src/auth/jwks-key-set.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { rsaKeyPair, signWith } from '../helpers/tokens.ts'

const first = rsaKeyPair()
const second = rsaKeyPair()
const jwkOf = (pem: string, kid: string) => ({ ...createPublicKey(pem).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' })
const tokenFor = (privateKey: string, kid: string): string => signWith(privateKey, 'RS256', {}, { kid })

interface IdentityProvider { url: string, origin: string, fetches: () => number, publish: (keys: object[]) => void, fail: (status: number | null) => void }

async function startIdentityProvider (t: Test, keys: object[]): Promise<IdentityProvider> {
  let published = keys
  let failing: number | null = null
  let fetches = 0
  const server = createServer((request, response) => {
    if (request.url === '/moved') {
      response.writeHead(301, { location: '/oauth/jwks.json' }).end()
      return
    }
    fetches++
    if (failing !== null) {
      response.writeHead(failing).end()
      return
    }
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys: published }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/oauth/jwks.json`,
    origin: `http://127.0.0.1:${port}`,
    fetches: () => fetches,
    publish: (next) => { published = next },
    fail: (status) => { failing = status }
  }
}

async function cut (service: ServiceUnderTest, token: string) {
  return await service.app.inject({
    method: 'POST',
    url: `/v1/projects/proj-1/live-videos/live-${randomUUID()}/cut`,
    headers: { authorization: `Bearer ${token}` }
  })
}

t.test('JWKS: one fetch per cool-down for unknown kids, the whole set held, rotation and refresh', async (t) => {
  const idp = await startIdentityProvider(t, [jwkOf(first.publicKey, 'key-1')])
  let time = Date.now()
  const service = await startService(t, { env: { JWT_SECRET: '', JWT_JWKS_URL: idp.url }, build: { now: () => time } })

  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200, 'a known kid verifies')
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200, 'again')
  t.equal(idp.fetches(), 1, 'the set was fetched once and is held')

  // 40 unauthenticated requests with random kids, all at once, within the cool-down of that fetch.
  const flood = await Promise.all(Array.from({ length: 40 }, async () => await cut(service, tokenFor(second.privateKey, randomUUID()))))
  t.same(new Set(flood.map((response) => response.statusCode)), new Set([401]), 'every random kid is a 401')
  t.match(flood[0]?.headers['www-authenticate'], /^Bearer realm="livecut-bff", error="invalid_token"/)
  t.equal(idp.fetches(), 1, 'and cost the provider no fetch: the last one was less than a cool-down ago')

  time += JWKS_COOLDOWN_MS
  const flood2 = await Promise.all(Array.from({ length: 40 }, async () => await cut(service, tokenFor(second.privateKey, randomUUID()))))
  t.same(new Set(flood2.map((response) => response.statusCode)), new Set([401]), 'after the cool-down, random kids are still 401')
  t.equal(idp.fetches(), 2, 'and all 40 together cost one fetch')
  for (let i = 0; i < 10; i++) await cut(service, tokenFor(second.privateKey, randomUUID()))
  t.equal(idp.fetches(), 2, 'the ones after it none')

  // Rotation: the provider publishes key-2 beside key-1.
  idp.publish([jwkOf(first.publicKey, 'key-1'), jwkOf(second.publicKey, 'key-2')])
  t.equal((await cut(service, tokenFor(second.privateKey, 'key-2'))).statusCode, 401, 'a key published within the cool-down is not fetched yet')
  t.equal(idp.fetches(), 2)
  time += JWKS_COOLDOWN_MS
  t.equal((await cut(service, tokenFor(second.privateKey, 'key-2'))).statusCode, 200, 'after the cool-down, the rotated-in key is fetched on its kid and verifies')
  t.equal(idp.fetches(), 3)
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200, 'the old key still verifies from the same fetch')
  t.equal((await cut(service, tokenFor(second.privateKey, 'key-1'))).statusCode, 401, 'a token signed by another key than its kid names is refused')
  t.equal((await cut(service, signWith(second.publicKey, 'HS256', {}, { kid: 'key-2' }))).statusCode, 401, 'HS256 signed with the public key is refused')
  t.equal(idp.fetches(), 3, 'no fetch for any of those')

  // An old set is fetched again before it is used: a key the provider withdrew stops verifying.
  idp.publish([jwkOf(second.publicKey, 'key-2')])
  time += JWKS_MAX_AGE_MS
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 401, 'a withdrawn key stops verifying once the set is old')
  t.equal(idp.fetches(), 4)
  t.equal((await cut(service, tokenFor(second.privateKey, 'key-2'))).statusCode, 200)
  t.equal(idp.fetches(), 4)
})

t.test('JWKS: a provider that is down is a 503 for unknown kids; keys already held keep verifying', async (t) => {
  const idp = await startIdentityProvider(t, [jwkOf(first.publicKey, 'key-1')])
  let time = Date.now()
  const service = await startService(t, { env: { JWT_SECRET: '', JWT_JWKS_URL: idp.url }, build: { now: () => time } })
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200)

  idp.fail(500)
  time += JWKS_MAX_AGE_MS
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200, 'an old set whose refresh fails still verifies its keys')
  t.equal(idp.fetches(), 2, 'the refresh was tried')
  const unknown = await cut(service, tokenFor(second.privateKey, 'key-2'))
  t.equal(unknown.statusCode, 503, 'an unknown kid while the provider is down: 503, so the client keeps its token')
  t.match(unknown.json(), { type: 'urn:livecut:problem:dependency_unavailable' })
  t.ok(Number(unknown.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal(idp.fetches(), 2, 'the provider is not asked again right after a failure')
  const failures = service.logs.records.filter((record) => String(record.msg).startsWith('jwks: the identity provider\'s key set could not be fetched'))
  t.equal(failures.length, 1, 'the failed fetch is logged once')
  t.match(failures[0], { level: 40, err: { message: /HTTP 500/ } }, 'as a warning')

  idp.fail(null)
  idp.publish([jwkOf(first.publicKey, 'key-1'), jwkOf(second.publicKey, 'key-2')])
  time += JWKS_FAILURE_RETRY_MS
  t.equal((await cut(service, tokenFor(second.privateKey, 'key-2'))).statusCode, 200, 'once the provider is back, the next try fetches the set')
  t.equal(idp.fetches(), 3)
})

t.test('JWKS: a provider that redirects its key set is followed', async (t) => {
  const idp = await startIdentityProvider(t, [jwkOf(first.publicKey, 'key-1')])
  const service = await startService(t, { env: { JWT_SECRET: '', JWT_JWKS_URL: `${idp.origin}/moved` } })
  t.equal((await cut(service, tokenFor(first.privateKey, 'key-1'))).statusCode, 200)
  t.equal(idp.fetches(), 1)
})
