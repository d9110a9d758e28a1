// The one scrubber behind log lines and everything the platform says: configured secrets
// (also as they appear inside a JSON string), credentials after an authorization scheme, and
// anything JWT-shaped; the rest of the text is left as it was.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { loadConfig } from '../../src/config/load-config.ts'
import { createLogger } from '../../src/logging/create-logger.ts'
import { createSecretScrubber, scrubberFor } from '../../src/security/secret-scrubber.ts'
import { LogCapture } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

t.test('text: literals, scheme credentials and JWTs go, the rest stays', async (t) => {
  const scrub = createSecretScrubber(['key-"quoted"\\x', 'abc', 'long-key', 'long-key-plus'], ['ApiKey'])
  t.equal(scrub.text('got long-key-plus and long-key'), 'got [REDACTED] and [REDACTED]', 'a key holding another is removed whole')
  t.equal(scrub.text(JSON.stringify({ msg: 'key-"quoted"\\x' })), '{"msg":"[REDACTED]"}', 'a secret as serialised inside a JSON string')
  t.equal(scrub.text('abc is too short to be a secret'), 'abc is too short to be a secret')
  t.equal(scrub.text('authorization: bearer a.b~c+d/e=='), 'authorization: bearer [REDACTED]', 'Bearer, any case, RFC 6750 token characters')
  t.equal(scrub.text('x-auth: ApiKey s3cr3t-value, next'), 'x-auth: ApiKey [REDACTED], next', 'the configured scheme too')
  const jwt = hsToken()
  t.equal(scrub.text(`token=${jwt};`), 'token=[REDACTED];')
  t.equal(scrub.text(`auth_${jwt}`), 'auth_[REDACTED]', 'glued to other text')
  const segment = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64url')
  const jwe = `${Buffer.from('{"alg":"RSA-OAEP","enc":"A256GCM"}').toString('base64url')}.${segment(256)}.${segment(12)}.${segment(40)}.${segment(16)}`
  t.equal(scrub.text(`jwe ${jwe} end`), 'jwe [REDACTED] end', 'all five segments of an encrypted JWT')
  const unsigned = `${Buffer.from('{ "alg": "none" }').toString('base64url')}.${Buffer.from('{\n"sub": "x"}').toString('base64url')}.`
  t.equal(scrub.text(`[${unsigned}]`), '[[REDACTED]]', 'an unsigned one, with spaced and multi-line JSON')
  for (const text of ['every week.yes.no', 'keyboardlayout.config.json', 'v1.eyes.example.com']) {
    t.equal(scrub.text(text), text, `${text}: ordinary dotted words are not JWTs`)
  }
})

t.test('value: every string and key of a JSON-like value, numbers and nulls untouched', async (t) => {
  const scrub = createSecretScrubber(['platform-key-1'])
  t.same(scrub.value([{ 'platform-key-1': ['Bearer platform-key-1', 7, null, true] }]), [{ '[REDACTED]': ['Bearer [REDACTED]', 7, null, true] }])
})

t.test('log lines go through the same scrubber', async (t) => {
  const { config } = loadConfig({ NODE_ENV: 'test', UPSTREAM_BASE_URL: 'http://127.0.0.1:1', UPSTREAM_API_KEY: 'the-platform-key-77', JWT_SECRET: 'x'.repeat(40) })
  const capture = new LogCapture()
  const logger = createLogger(config, scrubberFor(config), capture)
  logger.error({ err: new Error('upstream said: Authorization: Bearer the-platform-key-77') }, `failed for ${'x'.repeat(40)}`)
  logger.flush()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(capture.lines.length, 1)
  t.notOk(capture.text.includes('the-platform-key-77'), 'no platform key')
  t.notOk(capture.text.includes('x'.repeat(40)), 'no JWT secret')
  t.match(capture.records[0], { msg: 'failed for [REDACTED]', err: { message: 'upstream said: Authorization: Bearer [REDACTED]' } })
})

t.test('the checkpoint signing key never reaches a log line: its PEM, each line of it, its JWK private member', async (t) => {
  const key = generateKeyPairSync('ed25519').privateKey
  const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString()
  const { d } = key.export({ format: 'jwk' })
  const { config } = loadConfig({ NODE_ENV: 'test', UPSTREAM_BASE_URL: 'http://127.0.0.1:1', UPSTREAM_API_KEY: 'the-platform-key-77', JWT_SECRET: 'x'.repeat(40), AUDIT_SIGNING_KEY: pem })
  const capture = new LogCapture()
  const logger = createLogger(config, scrubberFor(config), capture)
  const body = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'))
  logger.warn({ env: { AUDIT_SIGNING_KEY: pem }, jwk: { d } }, `key line ${body.join('')}`)
  logger.flush()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(capture.lines.length, 1)
  for (const line of body) t.notOk(capture.text.includes(line), 'no base64 line of the PEM')
  t.notOk(capture.text.includes(d as string), 'no private scalar')
  t.match(capture.records[0], { jwk: { d: '[REDACTED]' } })
})
