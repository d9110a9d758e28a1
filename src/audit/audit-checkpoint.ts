import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto'
import createError from '@fastify/error'
import canonicalize from 'canonicalize'
import type { ChainHead } from './audit-chain.ts'

/**
 * Signed checkpoints of the chain's head, as certificate-transparency logs sign tree heads: a
 * checkpoint kept outside the trail (the log, an auditor's file) lets verification show that
 * records after it were cut off or that the chain up to it was rewritten.
 *
 * The signature (Ed25519) covers the RFC 8785 form of exactly `{ hash, keyId, seq, time }`;
 * `keyId` is the RFC 7638 thumbprint of the public key, so a verifier holding several keys
 * (one per rotation) picks the right one.
 */
export interface Checkpoint {
  seq: number
  hash: string
  /** RFC 3339 UTC. */
  time: string
  keyId: string
  /** base64url Ed25519 signature. */
  signature: string
}

/** The public key as `GET /v1/audit/public-key` serves it. */
export interface CheckpointPublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
}

export interface CheckpointSigner {
  readonly keyId: string
  readonly publicKey: KeyObject
  readonly publicJwk: CheckpointPublicJwk
  sign: (head: ChainHead, timeMs: number) => Checkpoint
}

/** What a signature covers: the RFC 8785 form of the four signed members. */
function signedText ({ hash, keyId, seq, time }: Omit<Checkpoint, 'signature'>): string {
  return canonicalize({ hash, keyId, seq, time }) as string
}

/** RFC 7638 thumbprint of an Ed25519 public key: SHA-256 of `{"crv","kty","x"}` in that order, base64url. */
function keyIdOf (publicKey: KeyObject): string {
  const { x } = publicKey.export({ format: 'jwk' })
  return createHash('sha256').update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url')
}

// Each says what is wrong with the key and never quotes it: the message reaches a terminal or a log.
/** A bad AUDIT_SIGNING_KEY: start-up names it among the configuration's problems. */
export const InvalidSigningKeyError = createError<'LIVECUT_AUDIT_SIGNING_KEY_INVALID', 500, [problem: string]>(
  'LIVECUT_AUDIT_SIGNING_KEY_INVALID', 'AUDIT_SIGNING_KEY %s: it must be an Ed25519 private key, PEM (PKCS#8)', 500)
/** A bad public key file (`audit verify --public-key`): the message says what is wrong, for the caller to prefix with the file. */
export const InvalidPublicKeyError = createError<'LIVECUT_AUDIT_PUBLIC_KEY_INVALID', 500, [problem: string]>(
  'LIVECUT_AUDIT_PUBLIC_KEY_INVALID', '%s', 500)

function isEd25519 (key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ed25519'
}

/** The signing key from `AUDIT_SIGNING_KEY`: an Ed25519 private key in PKCS#8 PEM; else throws InvalidSigningKeyError. */
export function signingKeyFromPem (pem: string): KeyObject {
  if (!/-----BEGIN PRIVATE KEY-----/.test(pem)) throw new InvalidSigningKeyError('is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)')
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    throw new InvalidSigningKeyError('cannot be read as a PEM private key')
  }
  if (!isEd25519(key)) throw new InvalidSigningKeyError(`is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`)
  return key
}

/** A fresh key, for a development start that configured none. */
export function generateSigningKey (): KeyObject {
  return generateKeyPairSync('ed25519').privateKey
}

export function createCheckpointSigner (privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey)
  const keyId = keyIdOf(publicKey)
  const { x } = publicKey.export({ format: 'jwk' })
  return {
    keyId,
    publicKey,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: x as string, kid: keyId },
    sign: (head, timeMs) => {
      const unsigned = { seq: head.seq, hash: head.hash, time: new Date(timeMs).toISOString(), keyId }
      return { ...unsigned, signature: sign(null, Buffer.from(signedText(unsigned)), privateKey).toString('base64url') }
    }
  }
}

/** Public keys by keyId. */
export type CheckpointKeys = ReadonlyMap<string, KeyObject>

/** Why the checkpoint's signature does not hold with the key its keyId names, or null when it does. */
export function signatureProblem (checkpoint: Checkpoint, key: KeyObject): string | null {
  if (keyIdOf(key) !== checkpoint.keyId) return `it names key ${checkpoint.keyId}, not this key`
  let valid = false
  try {
    valid = verify(null, Buffer.from(signedText(checkpoint)), key, Buffer.from(checkpoint.signature, 'base64url'))
  } catch {
    valid = false
  }
  return valid ? null : 'its signature does not verify: the checkpoint was forged or changed'
}

/**
 * Public keys from a file's text: a PEM public key (SPKI), a JWK as `/v1/audit/public-key`
 * serves it, or a JWK Set (`{ "keys": [...] }`) holding the keys of several rotations; else
 * throws InvalidPublicKeyError.
 */
export function publicKeysFromText (text: string): KeyObject[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('-----BEGIN')) {
    if (!trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) throw new InvalidPublicKeyError('is not a PEM public key (-----BEGIN PUBLIC KEY-----)')
    return [ed25519Public(() => createPublicKey({ key: trimmed, format: 'pem' }))]
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch {
    throw new InvalidPublicKeyError('is neither a PEM public key nor JSON (a JWK or a JWK Set)')
  }
  const jwks = (parsed as { keys?: unknown }).keys
  const jwkList = Array.isArray(jwks) ? jwks : [parsed]
  if (jwkList.length === 0) throw new InvalidPublicKeyError('holds a JWK Set without keys')
  return jwkList.map((jwk) => {
    const { kty, crv, x, d } = (jwk ?? {}) as Record<string, unknown>
    if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') throw new InvalidPublicKeyError('holds a JWK that is not an Ed25519 public key (kty OKP, crv Ed25519, x)')
    if (d !== undefined) throw new InvalidPublicKeyError('holds a private key: give the public key only')
    return ed25519Public(() => createPublicKey({ key: { kty, crv, x }, format: 'jwk' }))
  })
}

function ed25519Public (read: () => KeyObject): KeyObject {
  let key: KeyObject
  try {
    key = read()
  } catch {
    throw new InvalidPublicKeyError('holds a public key that cannot be read')
  }
  if (!isEd25519(key)) throw new InvalidPublicKeyError(`holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`)
  return key
}

export function keysById (keys: Iterable<KeyObject>): CheckpointKeys {
  return new Map([...keys].map((key) => [keyIdOf(key), key]))
}

/** A checkpoint as JSON (from `/v1/audit/checkpoints`, or a log line's `checkpoint`); throws a TypeError when it is not one. */
export function parseCheckpoint (text: string): Checkpoint {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new TypeError('is not JSON')
  }
  const { seq, hash, time, keyId, signature } = (value ?? {}) as Record<string, unknown>
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new TypeError('has no seq (a positive integer)')
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new TypeError('has no hash (64 hex digits)')
  if (typeof time !== 'string' || typeof keyId !== 'string' || typeof signature !== 'string') throw new TypeError('lacks time, keyId or signature')
  return { seq, hash, time, keyId, signature }
}
