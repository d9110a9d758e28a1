import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.ts'
import { quotesKey } from '../helpers/key-text.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const signingKeyPem = (): string => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const AUDIT_SIGNING_KEY = signingKeyPem()

const productionEnv = {
  NODE_ENV: 'production',
  AUDIT_SIGNING_KEY,
  UPSTREAM_BASE_URL: 'https://platform.example',
  UPSTREAM_API_KEY: 'platform-key-123456',
  JWT_SECRET: 'a'.repeat(32),
  JWT_ISSUER: 'https://idp.example/',
  JWT_AUDIENCE: 'livecut-bff'
}

function problemsOf (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

t.test('defaults are the SPEC\'s', async (t) => {
  const { config } = loadConfig({})
  t.equal(config.host, '0.0.0.0')
  t.equal(config.port, 3000)
  t.same(config.upstream, {
    ...config.upstream,
    authHeader: 'Authorization',
    authScheme: 'Bearer',
    timeoutMs: 5000,
    deadlineMs: 15000,
    maxAttempts: 4,
    retryBaseMs: 250,
    retryMaxMs: 4000
  })
  t.same(config.visibility, { options: { public: 1, private: 2, unlisted: 3 }, default: 'private' })
  t.equal(config.auditStoreUrl, 'sqlite:./data/audit.db')
  t.same(config.rateLimit, { cutMax: 20, cutWindow: '1 minute', ipMax: 300, ipWindow: '1 minute' })
  t.equal(config.jwt.projectsClaim, 'projects')
  t.equal(config.redisUrl, null)
  t.equal(config.trustProxy, false)
})

t.test('a complete production configuration loads', async (t) => {
  const { config, warnings } = loadConfig(productionEnv)
  t.equal(config.production, true)
  t.same(warnings, [])
})

t.test('production names every missing or unsafe setting at once', async (t) => {
  const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'short' })
  for (const name of ['UPSTREAM_BASE_URL', 'UPSTREAM_API_KEY', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_SECRET must be at least 32 bytes']) {
    t.ok(problems.some((problem) => problem.includes(name)), `names ${name}`)
  }
  t.ok(problemsOf({ ...productionEnv, JWT_SECRET: '' }).some((problem) => problem.includes('JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL')), 'no verifier')
  t.ok(problemsOf({ ...productionEnv, UPSTREAM_API_KEY: '', UPSTREAM_API_KEYS: '{}' }).length > 0, 'an empty key map is no key')
})

t.test('METRICS_PORT: off by default, a port of its own when set', async (t) => {
  t.equal(loadConfig({}).config.metricsPort, null)
  t.equal(loadConfig({ METRICS_PORT: '9464' }).config.metricsPort, 9464)
  t.ok(problemsOf({ PORT: '3000', METRICS_PORT: '3000' }).some((problem) => problem.includes('METRICS_PORT must differ from PORT')))
  t.ok(problemsOf({ METRICS_PORT: '0' }).some((problem) => problem.startsWith('METRICS_PORT')), 'a random port would be unknown to the scraper')
})

t.test('production problems are reported together with type errors', async (t) => {
  const problems = problemsOf({ NODE_ENV: 'production', PORT: 'eighty' })
  t.ok(problems.some((problem) => problem.startsWith('PORT')), 'the type error')
  t.ok(problems.some((problem) => problem.includes('JWT_ISSUER')), 'and the missing setting')
})

t.test('HMAC and public-key verifiers cannot be mixed', async (t) => {
  t.ok(problemsOf({ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp.example/jwks.json' }).some((p) => p.includes('exactly one')))
})

t.test('invalid values are named, secrets never echoed', async (t) => {
  const secretJson = '{"proj-1": "super-secret-key-value",'
  const problems = problemsOf({ UPSTREAM_API_KEYS: secretJson, VISIBILITY_OPTIONS: 'public:1', DEFAULT_VISIBILITY: 'hidden', RATE_LIMIT_CUT_WINDOW: 'soon', UPSTREAM_MAX_ATTEMPTS: '0' })
  for (const name of ['UPSTREAM_API_KEYS', 'VISIBILITY_OPTIONS', 'DEFAULT_VISIBILITY', 'RATE_LIMIT_CUT_WINDOW', 'UPSTREAM_MAX_ATTEMPTS']) {
    t.ok(problems.some((problem) => problem.startsWith(name)), `names ${name}`)
  }
  t.notOk(problems.join('\n').includes('super-secret-key-value'), 'the key is not in the message')
})

t.test('per-project keys and an empty auth scheme', async (t) => {
  const { config } = loadConfig({ UPSTREAM_API_KEYS: '{"proj-1":"k1","proj-2":"k2"}', UPSTREAM_AUTH_SCHEME: '', UPSTREAM_AUTH_HEADER: 'X-Api-Key' })
  t.same(config.upstream.apiKeys, { 'proj-1': 'k1', 'proj-2': 'k2' })
  t.equal(config.upstream.authScheme, '', 'the empty scheme is kept: the bare key is sent')
  t.equal(config.upstream.authHeader, 'X-Api-Key')
})

t.test('_FILE twins read secrets from files', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'key'), 'key-from-file\n')
  writeFileSync(join(dir, 'secret'), 's'.repeat(40))
  const { config } = loadConfig({ ...productionEnv, UPSTREAM_API_KEY: '', UPSTREAM_API_KEY_FILE: join(dir, 'key'), JWT_SECRET: '', JWT_SECRET_FILE: join(dir, 'secret') })
  t.equal(config.upstream.apiKey, 'key-from-file', 'trailing newline dropped')
  t.equal(config.jwt.secret, 's'.repeat(40))
  t.ok(problemsOf({ UPSTREAM_API_KEY: 'a', UPSTREAM_API_KEY_FILE: join(dir, 'key') }).some((p) => p.includes('both set')), 'not both')
  t.ok(problemsOf({ JWT_SECRET_FILE: join(dir, 'missing') }).some((p) => p.startsWith('JWT_SECRET_FILE')), 'unreadable file named')
})

t.test('a development start without settings says what it defaulted', async (t) => {
  const { config, warnings } = loadConfig({})
  t.equal(config.upstream.baseUrl, 'http://127.0.0.1:4010')
  t.equal(warnings.length, 4)
  t.ok(config.jwt.secret !== null && config.jwt.secret.length >= 32, 'a random secret')
  t.equal(config.auditCheckpoints.signingKey.asymmetricKeyType, 'ed25519', 'a generated signing key')
  t.ok(warnings.some((warning) => /AUDIT_SIGNING_KEY not set: generated an Ed25519 key/.test(warning)), 'and it says so')
  t.equal(config.auditCheckpoints.signingKeyGenerated, true, 'and says so to the code too (npm run demo reads it)')
  t.not(loadConfig({}).config.auditCheckpoints.signingKey.export({ format: 'jwk' }).x, config.auditCheckpoints.signingKey.export({ format: 'jwk' }).x, 'a new one each start')
})

t.test('AUDIT_SIGNING_KEY: required in production, an Ed25519 PKCS#8 PEM everywhere, never echoed', async (t) => {
  const { config, warnings } = loadConfig({ ...productionEnv })
  t.same(warnings, [])
  // The configured key signs, and its own public half verifies: it is the key given.
  const key = config.auditCheckpoints.signingKey
  const given = createPublicKey(AUDIT_SIGNING_KEY)
  t.ok(verify(null, Buffer.from('x'), given, sign(null, Buffer.from('x'), key)), 'the key given is the key used')
  t.same(config.auditCheckpoints, { signingKey: key, signingKeyGenerated: false, records: 1000, intervalMs: 60000 }, 'SPEC defaults: 1000 records, 60000 ms')
  t.equal(loadConfig({ AUDIT_SIGNING_KEY }).config.auditCheckpoints.signingKeyGenerated, false, 'a development start with a key does not generate one')

  t.ok(problemsOf({ ...productionEnv, AUDIT_SIGNING_KEY: '' }).some((problem) => /^AUDIT_SIGNING_KEY is required in production/.test(problem)), 'missing in production')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }) as string
  const refused: Array<[string, string]> = [['an RSA key', rsa], ['a SEC1 EC key', sec1], ['garbage', 'not a key at all, but a secret all the same: s3cr3t-value-that-must-not-leak'],
    ['a broken PEM', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----']]
  for (const [name, value] of refused) {
    for (const [mode, env] of [['production', { ...productionEnv, AUDIT_SIGNING_KEY: value }], ['development', { AUDIT_SIGNING_KEY: value }]] as const) {
      const problems = problemsOf(env)
      t.ok(problems.some((problem) => problem.startsWith('AUDIT_SIGNING_KEY') && problem.includes('Ed25519 private key, PEM (PKCS#8)')), `${name} is refused (${mode})`)
      t.notOk(problems.join('\n').includes(value.slice(30, 60)), `${name} is not echoed`)
    }
  }

  const dir = tempDir(t)
  writeFileSync(join(dir, 'signing.pem'), AUDIT_SIGNING_KEY)
  const fromFile = loadConfig({ ...productionEnv, AUDIT_SIGNING_KEY: '', AUDIT_SIGNING_KEY_FILE: join(dir, 'signing.pem') })
  t.equal(fromFile.config.auditCheckpoints.signingKey.export({ format: 'jwk' }).x, key.export({ format: 'jwk' }).x, 'AUDIT_SIGNING_KEY_FILE twin')
  t.ok(problemsOf({ ...productionEnv, AUDIT_CHECKPOINT_RECORDS: '0' }).some((problem) => problem.startsWith('AUDIT_CHECKPOINT_RECORDS')), 'at least one record')
})

/** `npm start` (src/server.ts) with only `env` (and PATH); its exit code and output when it fails, null when it starts. */
async function refusedStart (env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string } | null> {
  const run = promisify(execFile)(process.execPath, ['src/server.ts'], { env: { PATH: process.env.PATH, ...env }, cwd: new URL('../..', import.meta.url).pathname })
  return await run.then(() => null, (error: { code: number, stdout: string, stderr: string }) => error)
}

t.test('npm start refuses a production start with one message naming every problem', async (t) => {
  const failure = await refusedStart({ NODE_ENV: 'production', JWT_SECRET: 'short' })
  t.ok(failure !== null, 'the process exits with an error')
  t.equal(failure?.code, 1)
  t.match(failure?.stderr, /refuses to start/)
  for (const name of ['UPSTREAM_BASE_URL', 'UPSTREAM_API_KEY', 'JWT_ISSUER', 'JWT_AUDIENCE', 'at least 32 bytes', 'AUDIT_SIGNING_KEY']) {
    t.match(failure?.stderr, name)
  }
})

t.test('npm start refuses a bad AUDIT_SIGNING_KEY, naming it and what is wrong, never printing the key', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  const garbage = 'not a key at all, but a secret all the same: s3cr3t-value-that-must-not-leak'
  for (const [name, value, problem] of [['an RSA key', rsa, 'AUDIT_SIGNING_KEY is a rsa key, not Ed25519'],
    ['garbage', garbage, 'AUDIT_SIGNING_KEY is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)']] as const) {
    const failure = await refusedStart({ ...productionEnv, AUDIT_SIGNING_KEY: value })
    t.equal(failure?.code, 1, `${name}: the process exits with an error`)
    t.match(failure?.stderr, `refuses to start: invalid configuration:\n  - ${problem}: it must be an Ed25519 private key, PEM (PKCS#8)`, `${name}: named, and what is wrong`)
    t.notOk(quotesKey(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`, value), `${name}: not printed`)
  }
})

t.test('an unsafe platform base URL or key header is refused at start-up, without echoing it', async (t) => {
  t.match(problemsOf({ UPSTREAM_BASE_URL: 'ftp://platform.example' }).join('\n'), /http\(s\)/)
  const withCredentials = problemsOf({ UPSTREAM_BASE_URL: 'https://user:secret@platform.example' }).join('\n')
  t.match(withCredentials, /without credentials/)
  t.notMatch(withCredentials, 'secret')
  t.match(problemsOf({ UPSTREAM_BASE_URL: 'https://platform.example', UPSTREAM_AUTH_HEADER: 'Content-Type' }).join('\n'), /UPSTREAM_AUTH_HEADER/)
})
