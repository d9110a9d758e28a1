import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const productionEnv = {
  NODE_ENV: 'production',
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
  t.equal(warnings.length, 3)
  t.ok(config.jwt.secret !== null && config.jwt.secret.length >= 32, 'a random secret')
})

t.test('npm start refuses a production start with one message naming every problem', async (t) => {
  const env = { PATH: process.env.PATH, NODE_ENV: 'production', JWT_SECRET: 'short' }
  const run = promisify(execFile)(process.execPath, ['src/server.ts'], { env, cwd: new URL('../..', import.meta.url).pathname })
  const failure = await run.then(() => null, (error: { code: number, stderr: string }) => error)
  t.ok(failure !== null, 'the process exits with an error')
  t.equal(failure?.code, 1)
  t.match(failure?.stderr, /refuses to start/)
  for (const name of ['UPSTREAM_BASE_URL', 'UPSTREAM_API_KEY', 'JWT_ISSUER', 'JWT_AUDIENCE', 'at least 32 bytes']) {
    t.match(failure?.stderr, name)
  }
})

t.test('an unsafe platform base URL or key header is refused at start-up, without echoing it', async (t) => {
  t.match(problemsOf({ UPSTREAM_BASE_URL: 'ftp://platform.example' }).join('\n'), /http\(s\)/)
  const withCredentials = problemsOf({ UPSTREAM_BASE_URL: 'https://user:secret@platform.example' }).join('\n')
  t.match(withCredentials, /without credentials/)
  t.notMatch(withCredentials, 'secret')
  t.match(problemsOf({ UPSTREAM_BASE_URL: 'https://platform.example', UPSTREAM_AUTH_HEADER: 'Content-Type' }).join('\n'), /UPSTREAM_AUTH_HEADER/)
})
