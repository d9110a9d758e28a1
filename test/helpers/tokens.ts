import { generateKeyPairSync } from 'node:crypto'
import { createSigner, type JwtHeader } from 'fast-jwt'

export const TEST_JWT_SECRET = 'test-hs256-secret-of-more-than-32-bytes!'
export const TEST_ISSUER = 'https://idp.test/'
export const TEST_AUDIENCE = 'livecut-bff'

export type Claims = Record<string, unknown>

/** Claims of a caller allowed to cut in `proj-1`, valid for an hour, as the identity provider would issue them. */
export function standardClaims (overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000)
  return {
    sub: 'user-1',
    azp: 'web-console',
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 3600,
    scope: 'live:cut',
    projects: ['proj-1'],
    ...overrides
  }
}

/** An HS256 token signed with the test secret; `undefined` values remove a claim. */
export function hsToken (overrides: Claims = {}, secret: string = TEST_JWT_SECRET): string {
  const claims = Object.fromEntries(Object.entries(standardClaims(overrides)).filter(([, value]) => value !== undefined))
  return createSigner({ key: secret, algorithm: 'HS256' })(claims)
}

export function signWith (key: string, algorithm: 'RS256' | 'ES256' | 'EdDSA' | 'HS256', overrides: Claims = {}, header: Partial<JwtHeader> = {}): string {
  return createSigner({ key, algorithm, header: header as JwtHeader })(standardClaims(overrides))
}

export function rsaKeyPair () {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
}

/** A token with `alg: none` and no signature: must never verify. */
export function unsignedToken (overrides: Claims = {}): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(standardClaims(overrides))}.`
}
