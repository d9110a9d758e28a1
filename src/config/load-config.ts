import { readFileSync } from 'node:fs'
import { randomBytes, type KeyObject } from 'node:crypto'
import createError from '@fastify/error'
import { parse as parseDuration } from '@lukeed/ms'
import { ajvWith } from '../validation/validator-compiler.ts'
import { createCheckpointSigner, generateSigningKey, InvalidSigningKeyError, signingKeyFromPem } from '../audit/audit-checkpoint.ts'
import { EnvSchema, SECRET_VARIABLES, type Env } from './env-schema.ts'

/** Where a development start without settings points: the simulator's defaults (`npm run simulator`). */
const DEV_UPSTREAM_BASE_URL = 'http://127.0.0.1:4010'
export const DEV_UPSTREAM_API_KEY = 'dev-platform-key'
const MIN_HS256_SECRET_BYTES = 32

/** Headers the platform client sets itself (or HTTP does): UPSTREAM_AUTH_HEADER must not be one of them. */
const CLIENT_SET_HEADERS = new Set(['content-type', 'accept', 'x-request-id', 'host', 'content-length', 'connection', 'transfer-encoding'])

const InvalidConfig = createError<'LIVECUT_CONFIG_INVALID', 500, [problems: string]>('LIVECUT_CONFIG_INVALID', 'invalid configuration:\n  - %s', 500)

/** Start-up refused: `problems` names every missing or unsafe setting at once. */
export class ConfigError extends InvalidConfig {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(problems.join('\n  - '))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

// Environment variables are strings: coerced to the declared types, defaults filled in.
const validateEnv = ajvWith({ coerceTypes: true, useDefaults: true }).compile<Env>(EnvSchema)

/** Resolves `<NAME>_FILE` twins into their values; both forms at once is an error. */
function resolveSecretFiles (env: Record<string, string | undefined>, problems: string[]): Record<string, string | undefined> {
  const resolved = { ...env }
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`]
    if (file === undefined || file === '') continue
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name} and ${name}_FILE are both set: keep one`)
      continue
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return resolved
}

function parseVisibilityOptions (text: string, problems: string[]): Record<string, number> {
  const options: Record<string, number> = {}
  for (const pair of text.split(',')) {
    const match = /^\s*([A-Za-z][\w-]*)\s*=\s*(\d+)\s*$/.exec(pair)
    if (match === null) {
      problems.push(`VISIBILITY_OPTIONS: "${pair}" is not name=id (e.g. public=1,private=2)`)
      continue
    }
    options[match[1] as string] = Number(match[2])
  }
  return options
}

function parseApiKeys (text: string | undefined, problems: string[]): Record<string, string> {
  if (text === undefined || text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // Never echo the value: it holds keys.
    problems.push('UPSTREAM_API_KEYS is not valid JSON (expected {"<projectId>": "<key>"})')
    return {}
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) ||
      !Object.values(parsed).every((key) => typeof key === 'string' && key.length > 0)) {
    problems.push('UPSTREAM_API_KEYS must be a JSON object of project id to non-empty key string')
    return {}
  }
  return parsed as Record<string, string>
}

/** `true` trusts every peer's X-Forwarded-For (spoofable unless a proxy always overwrites it); a list trusts only those hops. */
function parseTrustProxy (text: string): boolean | string[] {
  const value = text.trim()
  if (value === 'false' || value === '') return false
  if (value === 'true') return true
  return value.split(',').map((hop) => hop.trim()).filter(Boolean)
}

/** The platform's base URL: http(s), no credentials, query or fragment; the value is never echoed (it might carry credentials). */
function checkUpstreamBaseUrl (text: string, problems: string[]): void {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    problems.push('UPSTREAM_BASE_URL is not a URL')
    return
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' ||
      url.search !== '' || url.hash !== '') {
    problems.push('UPSTREAM_BASE_URL must be an http(s) URL without credentials, query or fragment')
  }
}

function checkDuration (name: string, text: string, problems: string[]): void {
  if (!(Number(parseDuration(text)) > 0)) problems.push(`${name}: "${text}" is not a duration such as "1 minute" or "30s"`)
}

/**
 * Reads the configuration from environment variables, once, at start-up.
 * Returns the configuration and the warnings a development start should print loudly;
 * throws ConfigError naming every problem.
 */
export function loadConfig (rawEnv: Record<string, string | undefined> = process.env): { config: Config, warnings: string[] } {
  const problems: string[] = []
  const warnings: string[] = []
  // Empty variables count as unset, as in most container tooling.
  const withoutEmpty = Object.fromEntries(Object.entries(rawEnv).filter(([name, value]) =>
    value !== undefined && (value !== '' || name === 'UPSTREAM_AUTH_SCHEME')))
  const resolved = resolveSecretFiles(withoutEmpty, problems)
  if (resolved.NODE_ENV === 'production') problems.push(...productionProblems(resolved))
  const env: Record<string, unknown> = resolved
  if (!validateEnv(env)) {
    for (const error of validateEnv.errors ?? []) {
      const name = error.instancePath.slice(1)
      // Secret values are never echoed into the message.
      problems.push(`${name}: ${error.message ?? 'invalid'}`)
      delete env[name]
    }
    // Without the invalid values (defaults in their place), the remaining checks still run,
    // so one message names every problem.
    validateEnv(env)
  }
  const config = toConfig(env as Env, problems, warnings)
  if (problems.length > 0) throw new ConfigError(problems)
  return { config, warnings }
}

/** What production refuses to start without; checked on the raw variables so that it is reported with any type error. */
function productionProblems (env: Record<string, string | undefined>): string[] {
  const problems: string[] = []
  if (env.UPSTREAM_BASE_URL === undefined) problems.push('UPSTREAM_BASE_URL is required in production')
  if (env.UPSTREAM_API_KEY === undefined && env.UPSTREAM_API_KEYS === undefined) problems.push('UPSTREAM_API_KEY or UPSTREAM_API_KEYS is required in production')
  if (env.JWT_SECRET === undefined && env.JWT_PUBLIC_KEY === undefined && env.JWT_JWKS_URL === undefined) {
    problems.push('one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL is required in production')
  }
  if (env.JWT_ISSUER === undefined) problems.push('JWT_ISSUER is required in production')
  if (env.JWT_AUDIENCE === undefined) problems.push('JWT_AUDIENCE is required in production')
  if (env.AUDIT_SIGNING_KEY === undefined) {
    problems.push('AUDIT_SIGNING_KEY is required in production: an Ed25519 private key, PEM (PKCS#8), e.g. from `openssl genpkey -algorithm ed25519`')
  }
  if (env.JWT_SECRET !== undefined && Buffer.byteLength(env.JWT_SECRET) < MIN_HS256_SECRET_BYTES) {
    problems.push(`JWT_SECRET must be at least ${MIN_HS256_SECRET_BYTES} bytes in production`)
  }
  return problems
}

function toConfig (env: Env, problems: string[], warnings: string[]) {
  const production = env.NODE_ENV === 'production'
  const visibilityOptions = parseVisibilityOptions(env.VISIBILITY_OPTIONS, problems)
  if (!(env.DEFAULT_VISIBILITY in visibilityOptions)) {
    problems.push(`DEFAULT_VISIBILITY: "${env.DEFAULT_VISIBILITY}" is not one of VISIBILITY_OPTIONS (${Object.keys(visibilityOptions).join(', ')})`)
  }
  const apiKeys = parseApiKeys(env.UPSTREAM_API_KEYS, problems)
  checkDuration('RATE_LIMIT_CUT_WINDOW', env.RATE_LIMIT_CUT_WINDOW, problems)
  checkDuration('RATE_LIMIT_IP_WINDOW', env.RATE_LIMIT_IP_WINDOW, problems)
  if (env.UPSTREAM_RETRY_MAX_MS < env.UPSTREAM_RETRY_BASE_MS) {
    problems.push('UPSTREAM_RETRY_MAX_MS must not be below UPSTREAM_RETRY_BASE_MS')
  }
  if (CLIENT_SET_HEADERS.has(env.UPSTREAM_AUTH_HEADER.toLowerCase())) {
    problems.push(`UPSTREAM_AUTH_HEADER must not be ${env.UPSTREAM_AUTH_HEADER}: the platform client sets that header itself`)
  }
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT) problems.push('METRICS_PORT must differ from PORT')
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(env.AUDIT_STORE_URL)) {
    problems.push('AUDIT_STORE_URL must be sqlite:<path> or postgres://…')
  }

  let upstreamBaseUrl = env.UPSTREAM_BASE_URL
  let upstreamApiKey = env.UPSTREAM_API_KEY
  let jwtSecret = env.JWT_SECRET
  const verifiers = [env.JWT_SECRET, env.JWT_PUBLIC_KEY, env.JWT_JWKS_URL].filter((v) => v !== undefined)
  if (verifiers.length > 1) {
    problems.push('configure exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: mixing HMAC and public keys invites algorithm confusion')
  }

  let signingKey: KeyObject | null = null
  let signingKeyGenerated = false
  if (env.AUDIT_SIGNING_KEY !== undefined) {
    try {
      signingKey = signingKeyFromPem(env.AUDIT_SIGNING_KEY)
    } catch (error) {
      // It says what is wrong with the key, never the key; anything else is a bug, not a setting.
      if (!(error instanceof InvalidSigningKeyError)) throw error
      problems.push(error.message)
    }
  } else if (!production) {
    signingKey = generateSigningKey()
    signingKeyGenerated = true
    warnings.push(`AUDIT_SIGNING_KEY not set: generated an Ed25519 key for this run (keyId ${createCheckpointSigner(signingKey).keyId}); ` +
      'the checkpoints it signs verify only with its public key (GET /v1/audit/public-key), which is lost when the process exits')
  }

  if (production && upstreamApiKey === undefined && Object.keys(apiKeys).length === 0) {
    problems.push('UPSTREAM_API_KEYS lists no key, and UPSTREAM_API_KEY is not set')
  }
  if (!production) {
    if (upstreamBaseUrl === undefined) {
      upstreamBaseUrl = DEV_UPSTREAM_BASE_URL
      warnings.push(`UPSTREAM_BASE_URL not set: using the local simulator at ${DEV_UPSTREAM_BASE_URL} (npm run simulator)`)
    }
    if (upstreamApiKey === undefined && Object.keys(apiKeys).length === 0) {
      upstreamApiKey = DEV_UPSTREAM_API_KEY
      warnings.push('UPSTREAM_API_KEY not set: using the simulator\'s development key')
    }
    if (verifiers.length === 0) {
      jwtSecret = randomBytes(32).toString('base64url')
      warnings.push('no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL: generated a random HS256 secret, so no outside token verifies (npm run demo prints a usable one)')
    }
  }
  if (upstreamBaseUrl !== undefined) checkUpstreamBaseUrl(upstreamBaseUrl, problems)
  return {
    production,
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT ?? null,
    logLevel: env.LOG_LEVEL,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    upstream: {
      baseUrl: upstreamBaseUrl as string,
      apiKey: upstreamApiKey ?? null,
      apiKeys,
      authHeader: env.UPSTREAM_AUTH_HEADER,
      authScheme: env.UPSTREAM_AUTH_SCHEME,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
      deadlineMs: env.UPSTREAM_DEADLINE_MS,
      maxAttempts: env.UPSTREAM_MAX_ATTEMPTS,
      retryBaseMs: env.UPSTREAM_RETRY_BASE_MS,
      retryMaxMs: env.UPSTREAM_RETRY_MAX_MS
    },
    protection: {
      breakerFailureThreshold: env.BREAKER_FAILURE_THRESHOLD,
      breakerCooldownMs: env.BREAKER_COOLDOWN_MS,
      retryBudgetRatio: env.RETRY_BUDGET_RATIO
    },
    jwt: {
      secret: jwtSecret ?? null,
      publicKey: env.JWT_PUBLIC_KEY ?? null,
      jwksUrl: env.JWT_JWKS_URL ?? null,
      issuer: env.JWT_ISSUER ?? null,
      audience: env.JWT_AUDIENCE ?? null,
      projectsClaim: env.JWT_PROJECTS_CLAIM
    },
    visibility: {
      options: visibilityOptions,
      default: env.DEFAULT_VISIBILITY
    },
    docsEnabled: env.DOCS_ENABLED ?? !production,
    consoleEnabled: env.CONSOLE_ENABLED,
    auditStoreUrl: env.AUDIT_STORE_URL,
    auditCheckpoints: {
      /** Always set when loadConfig returns: without a key (production) or with a bad one it throws. */
      signingKey: signingKey as KeyObject,
      /** None was configured, so a development start made one: its checkpoints verify only while this process runs. */
      signingKeyGenerated,
      records: env.AUDIT_CHECKPOINT_RECORDS,
      intervalMs: env.AUDIT_CHECKPOINT_INTERVAL_MS
    },
    redisUrl: env.REDIS_URL ?? null,
    tracing: {
      otlpEndpoint: env.OTEL_SDK_DISABLED ? null : env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
      serviceName: env.OTEL_SERVICE_NAME,
      disabled: env.OTEL_SDK_DISABLED
    },
    rateLimit: {
      cutMax: env.RATE_LIMIT_CUT_MAX,
      cutWindow: env.RATE_LIMIT_CUT_WINDOW,
      ipMax: env.RATE_LIMIT_IP_MAX,
      ipWindow: env.RATE_LIMIT_IP_WINDOW
    }
  }
}

export type Config = ReturnType<typeof toConfig>
export type UpstreamConfig = Config['upstream']
export type TracingConfig = Config['tracing']
