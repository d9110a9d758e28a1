import { Type, type Static } from 'typebox'

/**
 * Every environment variable the service reads: its type, default and meaning, in one place.
 * The loader validates against it, and the README's configuration table is checked against it.
 * Secret-bearing variables also accept a `<NAME>_FILE` twin (see SECRET_VARIABLES).
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('production'), Type.Literal('development'), Type.Literal('test')], {
    default: 'development',
    description: '`production` enforces every safety check at start-up'
  }),
  HOST: Type.String({ default: '0.0.0.0', description: 'listen address' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'listen port' }),
  METRICS_PORT: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    description: 'serve `/metrics` on this port of `HOST` alone instead of `PORT`, to keep it off the listener clients reach'
  })),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), {
    default: 'info',
    description: 'pino level'
  }),
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'reverse proxies whose `X-Forwarded-For` is believed: `false`, or comma-separated addresses/CIDRs/`loopback`; `true` believes any peer'
  }),

  UPSTREAM_BASE_URL: Type.Optional(Type.String({ format: 'uri', description: 'platform API origin, e.g. `https://platform.example`' })),
  UPSTREAM_API_KEY: Type.Optional(Type.String({ minLength: 1, description: 'platform key used for every project' })),
  UPSTREAM_API_KEYS: Type.Optional(Type.String({ description: 'JSON object `{ "<projectId>": "<key>" }`; wins over `UPSTREAM_API_KEY` for listed projects' })),
  UPSTREAM_AUTH_HEADER: Type.String({ default: 'Authorization', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'header that carries the key upstream' }),
  UPSTREAM_AUTH_SCHEME: Type.String({ default: 'Bearer', description: 'prefix before the key; empty string sends the bare key' }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 5000, description: 'one attempt, until response headers' }),
  UPSTREAM_DEADLINE_MS: Type.Integer({ minimum: 1, default: 15000, description: 'all attempts and waits together' }),
  UPSTREAM_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 4, description: 'attempts in all, the first included' }),
  UPSTREAM_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 250, description: 'shortest wait before a retry' }),
  UPSTREAM_RETRY_MAX_MS: Type.Integer({ minimum: 0, default: 4000, description: 'longest backoff wait before a retry' }),

  JWT_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'HS256 verification secret (at least 32 bytes in production)' })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1, description: 'PEM public key (RS256, ES256 or EdDSA)' })),
  JWT_JWKS_URL: Type.Optional(Type.String({ format: 'uri', description: 'JWKS endpoint of the identity provider; keys cached, refreshed on unknown `kid`' })),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'required `iss` when set (always set in production)' })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, description: 'required `aud` when set (always set in production)' })),
  JWT_PROJECTS_CLAIM: Type.String({ default: 'projects', minLength: 1, description: 'claim listing the project ids a caller may act on (`"*"` = all)' }),

  VISIBILITY_OPTIONS: Type.String({ default: 'public=1,private=2,unlisted=3', description: 'visibility names and the platform\'s option ids' }),
  DEFAULT_VISIBILITY: Type.String({ default: 'private', description: 'used when the body names none' }),

  AUDIT_STORE_URL: Type.String({ default: 'sqlite:./data/audit.db', description: '`sqlite:<path>` or `postgres://…`' }),
  REDIS_URL: Type.Optional(Type.String({ format: 'uri', description: 'when set, rate limits, idempotency keys and in-flight locks are shared through Redis' })),

  BREAKER_FAILURE_THRESHOLD: Type.Integer({ minimum: 1, default: 5, description: 'consecutive 503s, connection failures or timeouts that open the circuit (then cuts fail fast with 503)' }),
  BREAKER_COOLDOWN_MS: Type.Integer({ minimum: 1, default: 10000, description: 'how long the circuit stays open before one probe call is let through' }),
  RETRY_BUDGET_RATIO: Type.Number({ minimum: 0, maximum: 10, default: 0.2, description: 'retries allowed as a share of requests over the last 10 s (at least 10 per window)' }),

  RATE_LIMIT_CUT_MAX: Type.Integer({ minimum: 1, default: 20, description: 'cut requests per token subject per window' }),
  RATE_LIMIT_CUT_WINDOW: Type.String({ default: '1 minute', description: 'window of the per-subject cut limit' }),
  RATE_LIMIT_IP_MAX: Type.Integer({ minimum: 1, default: 300, description: 'requests per client address per window, every route' }),
  RATE_LIMIT_IP_WINDOW: Type.String({ default: '1 minute', description: 'window of the per-address limit' }),

  DOCS_ENABLED: Type.Optional(Type.Boolean({ description: 'Swagger UI at `/docs`; on by default, off in production unless `true`' })),
  CONSOLE_ENABLED: Type.Boolean({ default: true, description: 'the audit review console (a web page for auditors) at `/console/`' }),

  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ format: 'uri', description: 'OTLP/HTTP collector (traces to `<endpoint>/v1/traces`); unset, no span is recorded, but a `traceparent` is still continued and passed to the platform' })),
  OTEL_SERVICE_NAME: Type.String({ default: 'livecut-bff', minLength: 1, description: '`service.name` of the exported spans' }),
  OTEL_SDK_DISABLED: Type.Boolean({ default: false, description: '`true`: no tracing at all (an incoming `traceparent` is still passed on, no trace is started)' })
})

export type Env = Static<typeof EnvSchema>

/** Variables that carry secrets: each may instead be read from the file named by `<NAME>_FILE`. */
export const SECRET_VARIABLES = ['UPSTREAM_API_KEY', 'UPSTREAM_API_KEYS', 'JWT_SECRET', 'JWT_PUBLIC_KEY'] as const
