import { generateKeyPairSync } from 'node:crypto'
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

  // Verified tokens are cached: what is cached must be the exact token, and never the access check.
  t.test('a token accepted before does not vouch for an altered one, nor for another project', async (t) => {
    const token = hsToken({ scope: 'live:cut', projects: ['proj-1'] })
    t.equal((await cutWith(service, `Bearer ${token}`)).statusCode, 200)
    t.equal((await cutWith(service, `Bearer ${token}`)).statusCode, 200, 'the same token again')
    service.simulator.app.simulator.reset()
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1) as string}`
    assertUnauthenticated(t, await cutWith(service, `Bearer ${header}.${payload}.${flipped}`), service)
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), projects: '*' })).toString('base64url')
    assertUnauthenticated(t, await cutWith(service, `Bearer ${header}.${widened}.${signature}`), service)
    t.equal((await cutWith(service, `Bearer ${token}`, 'proj-2')).statusCode, 403, 'the cached token, for a project it does not grant')
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

t.test('a PEM public key of another type or curve stops the start with a coded error that names it, not the key', async (t) => {
  const keys = [
    ['x25519', generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey],
    ['ec (curve secp384r1)', generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey]
  ] as const
  for (const [named, publicKey] of keys) {
    const started = startService(t, { env: { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey } })
    const error = await started.then(() => null, (error: unknown) => error as Error & { code?: string, statusCode?: number })
    if (error === null) throw new Error(`a ${named} key was accepted`)
    t.equal(error.code, 'LIVECUT_JWT_KEY_UNSUPPORTED', `${named}: the code`)
    t.equal(error.message, `JWT_PUBLIC_KEY: unsupported key type ${named} (use RSA, P-256 or Ed25519)`, `${named}: the message names the variable and the type`)
    const body = publicKey.split('\n').filter((line) => line !== '' && !line.startsWith('-----'))
    t.ok(body.length > 0 && body.every((line) => !error.message.includes(line) && !(error.stack ?? '').includes(line)), `${named}: no line of the key in the message or the stack`)
  }
})
