import { createPublicKey } from 'node:crypto'
import createError from '@fastify/error'
import fp from 'fastify-plugin'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Config } from '../config/load-config.ts'
import { ProblemError } from '../problems/problem-error.ts'
import { createJwksKeySet, UnknownSigningKeyError } from './jwks-key-set.ts'
import { projectsOf, scopesOf, type TokenClaims } from './token-claims.ts'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims
    user: TokenClaims
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook: verifies the bearer token, then requires `scope` and, when named, access to the project in that path parameter. */
    requireAccess: (scope: string, options?: { projectParam?: string }) => onRequestAsyncHookHandler
    /** The projects the verified caller may see or act on. */
    callerProjects: (request: FastifyRequest) => readonly string[] | '*'
  }
}

const CLOCK_TOLERANCE_MS = 30_000
/**
 * Verified tokens are kept (by a hash of the whole token, up to their expiry or this long) so a
 * client's repeated calls skip the signature check; an asymmetric one costs far more than the
 * rest of auth. A JWKS key is still looked up for every request first, so a withdrawn key stops
 * its cached tokens too; scopes and projects are checked on every request.
 */
const VERIFIED_TOKEN_CACHE = { cache: 1000, cacheTTL: 60_000 }
const REALM = 'Bearer realm="livecut-bff"'
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA']

// Names the key's type only: the key itself stays out of the message (and so out of the logs).
const UnsupportedPublicKeyError = createError<'LIVECUT_JWT_KEY_UNSUPPORTED', 500, [keyType: string]>(
  'LIVECUT_JWT_KEY_UNSUPPORTED', 'JWT_PUBLIC_KEY: unsupported key type %s (use RSA, P-256 or Ed25519)', 500)

/** The algorithm a PEM public key allows: never an HMAC one, so a key cannot be used as an HS256 secret. */
function algorithmsForPublicKey (pem: string): string[] {
  const key = createPublicKey(pem)
  const type = key.asymmetricKeyType
  if (type === 'rsa') return ['RS256']
  // ES256 is P-256 only (fast-jwt refuses other curves too, but names neither the variable nor the curve).
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return ['ES256']
  if (type === 'ed25519') return ['EdDSA']
  throw new UnsupportedPublicKeyError(type === 'ec' ? `ec (curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'})` : type ?? 'unknown')
}

function jwtOptions (jwt: Config['jwt'], now: () => number, log: FastifyBaseLogger): FastifyJWTOptions {
  const claims = {
    ...VERIFIED_TOKEN_CACHE,
    clockTolerance: CLOCK_TOLERANCE_MS,
    // A token without expiry would be valid forever once leaked.
    requiredClaims: ['exp', ...(jwt.issuer !== null ? ['iss'] : []), ...(jwt.audience !== null ? ['aud'] : [])],
    ...(jwt.issuer !== null && { allowedIss: jwt.issuer }),
    ...(jwt.audience !== null && { allowedAud: jwt.audience })
  }
  if (jwt.jwksUrl !== null) {
    const jwks = createJwksKeySet({
      url: jwt.jwksUrl,
      now,
      onFetchFailed: (error) => { log.warn({ err: error }, 'jwks: the identity provider\'s key set could not be fetched; unknown kids are answered 503 until it can') }
    })
    return {
      // The secret callback needs the header (kid, alg), not only the payload.
      decode: { complete: true },
      secret: async (_request: FastifyRequest, token: unknown) => {
        const header = (token as { header: { kid?: string, alg?: string } }).header
        try {
          return await jwks.keyFor(header.kid, header.alg)
        } catch (error) {
          // An unknown kid is the token's fault; anything else is the identity provider's.
          if (error instanceof UnknownSigningKeyError) throw error
          throw new ProblemError('dependency_unavailable', 'The identity provider\'s keys could not be fetched; try again shortly.', { retryAfterSeconds: 5 })
        }
      },
      verify: { algorithms: ASYMMETRIC_ALGORITHMS, ...claims }
    } as FastifyJWTOptions
  }
  if (jwt.publicKey !== null) {
    return { secret: { public: jwt.publicKey }, verify: { algorithms: algorithmsForPublicKey(jwt.publicKey), ...claims } } as FastifyJWTOptions
  }
  return { secret: jwt.secret as string, verify: { algorithms: ['HS256'], ...claims } } as FastifyJWTOptions
}

/** Any failure to verify is a 401, except an identity provider we cannot reach. */
function unauthenticated (error: Error & { code?: string }): ProblemError {
  if (error instanceof ProblemError) return error
  if (error.code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') {
    return new ProblemError('unauthenticated', 'Send Authorization: Bearer <token>.', { challenge: REALM })
  }
  const reason = error.code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED'
    ? 'The token has expired.'
    : error.code === 'FST_JWT_BAD_REQUEST'
      ? 'The Authorization header must be "Bearer <token>".'
      : 'The token could not be verified.'
  return new ProblemError('unauthenticated', reason, { challenge: `${REALM}, error="invalid_token", error_description="${reason}"` })
}

async function authPlugin (fastify: FastifyInstance, { jwt, now }: { jwt: Config['jwt'], now: () => number }): Promise<void> {
  await fastify.register(fastifyJwt, jwtOptions(jwt, now, fastify.log))
  const projectsClaim = jwt.projectsClaim

  fastify.decorate('callerProjects', (request: FastifyRequest) => projectsOf(request.user, projectsClaim))

  fastify.decorate('requireAccess', (scope: string, options: { projectParam?: string } = {}): onRequestAsyncHookHandler => {
    const denied = (detail: string): ProblemError =>
      new ProblemError('forbidden', detail, { challenge: `${REALM}, error="insufficient_scope", scope="${scope}"` })
    return async function requireAccess (request) {
      try {
        await request.jwtVerify()
      } catch (error) {
        throw unauthenticated(error as Error)
      }
      if (!scopesOf(request.user).has(scope)) throw denied(`The token lacks the scope ${scope}.`)
      if (options.projectParam === undefined) return
      const projectId = (request.params as Record<string, string | undefined>)[options.projectParam]
      const projects = projectsOf(request.user, projectsClaim)
      if (projects !== '*' && (projectId === undefined || !projects.includes(projectId))) {
        throw denied('The token does not grant access to this project.')
      }
    }
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x' })
