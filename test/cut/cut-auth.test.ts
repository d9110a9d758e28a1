import { createServer } from 'node:http'
import { once } from 'node:events'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import t, { type Test } from 'tap'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { injectCut } from '../helpers/cut-request.ts'
import { hsToken, rsaKeyPair, signWith, TEST_JWT_SECRET, unsignedToken } from '../helpers/tokens.ts'

async function cutWith (service: ServiceUnderTest, authorization: string | undefined, project = 'proj-1') {
  const video = `live-${Math.random().toString(36).slice(2)}`
  return await injectCut(service.app, { project, video, payload: null, ...(authorization === undefined ? { token: null } : { authorization }) })
}

function assertUnauthenticated (t: Test, response: Awaited<ReturnType<typeof cutWith>>, service: ServiceUnderTest): void {
  t.equal(response.statusCode, 401, 'answered 401')
  t.match(response.headers['www-authenticate'], /^Bearer realm="livecut-bff"/)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().type, 'urn:livecut:problem:unauthenticated')
  t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was not called')
}

t.test('HS256 secret', async (t) => {
  const service = await startService(t)
  const now = Math.floor(Date.now() / 1000)

  t.test('a valid token passes', async (t) => {
    const response = await cutWith(service, `Bearer ${hsToken()}`)
    t.equal(response.statusCode, 200)
    service.simulator.app.simulator.reset()
  })

  const attacks: Array<[string, string | undefined]> = [
    ['no Authorization header', undefined],
    ['not a bearer scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['a token that is not a JWT', 'Bearer not-a-token'],
    ['alg none, unsigned', `Bearer ${unsignedToken()}`],
    ['signed with another secret', `Bearer ${hsToken({}, 'another-secret-of-more-than-32-bytes-long')}`],
    ['expired beyond the 30 s tolerance', `Bearer ${hsToken({ exp: now - 31 })}`],
    ['not yet valid beyond the 30 s tolerance', `Bearer ${hsToken({ nbf: now + 60 })}`],
    ['wrong issuer', `Bearer ${hsToken({ iss: 'https://evil.test/' })}`],
    ['wrong audience', `Bearer ${hsToken({ aud: 'another-service' })}`],
    ['no expiry', `Bearer ${hsToken({ exp: undefined })}`],
    ['no issuer', `Bearer ${hsToken({ iss: undefined })}`]
  ]
  for (const [name, authorization] of attacks) {
    t.test(`rejects ${name}`, async (t) => {
      assertUnauthenticated(t, await cutWith(service, authorization), service)
    })
  }

  t.test('the 30 s clock tolerance', async (t) => {
    t.equal((await cutWith(service, `Bearer ${hsToken({ exp: now - 10 })}`)).statusCode, 200, 'expired 10 s ago is still accepted')
    t.equal((await cutWith(service, `Bearer ${hsToken({ nbf: now + 10 })}`)).statusCode, 200, 'valid in 10 s is already accepted')
  })

  t.test('scope live:cut from scope or scp', async (t) => {
    t.equal((await cutWith(service, `Bearer ${hsToken({ scope: 'audit:read live:cut' })}`)).statusCode, 200, 'space-separated scope')
    t.equal((await cutWith(service, `Bearer ${hsToken({ scope: undefined, scp: ['live:cut'] })}`)).statusCode, 200, 'scp array')
    const lacking = await cutWith(service, `Bearer ${hsToken({ scope: 'audit:read live:cutter' })}`)
    t.equal(lacking.statusCode, 403, 'a scope that merely starts alike is not live:cut')
    t.match(lacking.headers['www-authenticate'], /error="insufficient_scope"/)
    t.equal(lacking.json().type, 'urn:livecut:problem:forbidden')
  })

  t.test('the projects claim gates the project', async (t) => {
    t.equal((await cutWith(service, `Bearer ${hsToken({ projects: ['proj-2'] })}`)).statusCode, 403, 'another project')
    t.equal((await cutWith(service, `Bearer ${hsToken({ projects: undefined })}`)).statusCode, 403, 'no projects claim')
    t.equal((await cutWith(service, `Bearer ${hsToken({ projects: '*' })}`, 'proj-9')).statusCode, 200, '"*" grants all')
    t.equal((await cutWith(service, `Bearer ${hsToken({ projects: ['proj-2', 'proj-9'] })}`, 'proj-9')).statusCode, 200, 'listed project')
  })

  t.test('a 401 or 403 never reaches the platform', async (t) => {
    service.simulator.app.simulator.reset()
    await cutWith(service, `Bearer ${hsToken({ projects: ['proj-2'] })}`)
    await cutWith(service, undefined)
    t.equal(service.simulator.app.simulator.calls().length, 0)
  })

  t.test('bearer tokens and the secret never reach the logs', async (t) => {
    const token = hsToken({ projects: ['proj-2'] })
    await cutWith(service, `Bearer ${token}`)
    await cutWith(service, `Bearer ${hsToken({ exp: now - 100 })}`)
    t.ok(service.logs.lines.length > 0, 'something was logged')
    t.notOk(service.logs.text.includes(token), 'no token')
    t.notOk(service.logs.text.includes(TEST_JWT_SECRET), 'no secret')
    t.notOk(/eyJ[\w-]{4,}\.[\w-]{4,}\./.test(service.logs.text), 'nothing JWT-shaped')
  })
})

t.test('PEM public key (RS256): no algorithm confusion', async (t) => {
  const { publicKey, privateKey } = rsaKeyPair()
  const service = await startService(t, { env: { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey } })
  t.equal((await cutWith(service, `Bearer ${signWith(privateKey, 'RS256')}`)).statusCode, 200, 'RS256 token signed with the private key')
  service.simulator.app.simulator.reset()
  assertUnauthenticated(t, await cutWith(service, `Bearer ${signWith(publicKey, 'HS256')}`), service)
  assertUnauthenticated(t, await cutWith(service, `Bearer ${hsToken()}`), service)
  assertUnauthenticated(t, await cutWith(service, `Bearer ${unsignedToken()}`), service)
})

t.test('PEM public keys of ES256 and EdDSA', async (t) => {
  for (const [type, algorithm] of [['ec', 'ES256'], ['ed25519', 'EdDSA']] as const) {
    const pair = type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
      : generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    const service = await startService(t, { env: { JWT_SECRET: '', JWT_PUBLIC_KEY: pair.publicKey } })
    t.equal((await cutWith(service, `Bearer ${signWith(pair.privateKey, algorithm)}`)).statusCode, 200, algorithm)
    t.equal((await cutWith(service, `Bearer ${signWith(pair.publicKey, 'HS256')}`)).statusCode, 401, `HS256 signed with the ${algorithm} public key`)
  }
})

t.test('JWKS: cached keys, refreshed on an unknown kid', async (t) => {
  const first = rsaKeyPair()
  const second = rsaKeyPair()
  const jwkOf = (pem: string, kid: string) => ({ ...createPublicKey(pem).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' })
  let keys = [jwkOf(first.publicKey, 'key-1')]
  let fetches = 0
  const idp = createServer((request, response) => {
    fetches++
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys }))
  })
  idp.listen(0, '127.0.0.1')
  await once(idp, 'listening')
  t.teardown(() => { idp.close() })
  const { port } = idp.address() as { port: number }
  const service = await startService(t, { env: { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/oauth/jwks.json` } })

  t.equal((await cutWith(service, `Bearer ${signWith(first.privateKey, 'RS256', {}, { kid: 'key-1' })}`)).statusCode, 200, 'known kid')
  t.equal((await cutWith(service, `Bearer ${signWith(first.privateKey, 'RS256', {}, { kid: 'key-1' })}`)).statusCode, 200, 'known kid again')
  t.equal(fetches, 1, 'the key set was fetched once and cached')

  service.simulator.app.simulator.reset()
  assertUnauthenticated(t, await cutWith(service, `Bearer ${signWith(second.privateKey, 'RS256', {}, { kid: 'key-2' })}`), service)

  keys = [...keys, jwkOf(second.publicKey, 'key-2')]
  t.equal((await cutWith(service, `Bearer ${signWith(second.privateKey, 'RS256', {}, { kid: 'key-2' })}`)).statusCode, 200, 'a rotated-in key is fetched on its unknown kid')
  service.simulator.app.simulator.reset()
  assertUnauthenticated(t, await cutWith(service, `Bearer ${signWith(second.publicKey, 'HS256', {}, { kid: 'key-2' })}`), service)
})
