import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { InvalidPublicKeyError, InvalidSigningKeyError, publicKeysFromText, signingKeyFromPem } from '../../src/audit/audit-checkpoint.ts'
import { quotesKey } from '../helpers/key-text.ts'

// A bad key is refused with a coded error that says what is wrong and never quotes the key.

const ed25519 = generateKeyPairSync('ed25519')
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })

/** What `fn` throws; fails the test when it throws nothing. */
function thrownBy (fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('nothing thrown')
}

t.test('signingKeyFromPem: LIVECUT_AUDIT_SIGNING_KEY_INVALID, naming AUDIT_SIGNING_KEY and the problem, not the key', async (t) => {
  const refused: Array<[string, string, string]> = [
    ['an RSA key', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 'is a rsa key, not Ed25519'],
    ['a SEC1 EC key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }) as string, 'is not a PKCS#8 PEM private key'],
    ['a broken PEM', '-----BEGIN PRIVATE KEY-----\nAAAAs3cr3tBYTES\n-----END PRIVATE KEY-----', 'cannot be read as a PEM private key'],
    ['garbage', 'not a key at all, but a secret all the same: s3cr3t-value-that-must-not-leak', 'is not a PKCS#8 PEM private key']
  ]
  for (const [name, value, problem] of refused) {
    const error = thrownBy(() => signingKeyFromPem(value))
    t.ok(error instanceof InvalidSigningKeyError, `${name}: the coded error`)
    t.equal(error.code, 'LIVECUT_AUDIT_SIGNING_KEY_INVALID', `${name}: its code`)
    t.match(error.message, new RegExp(`^AUDIT_SIGNING_KEY ${problem}.*: it must be an Ed25519 private key, PEM \\(PKCS#8\\)$`), `${name}: the variable and the problem`)
    t.ok(!quotesKey(error.message, value) && error.cause === undefined, `${name}: not quoted, nor kept as a cause`)
  }
  t.equal(signingKeyFromPem(ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string).asymmetricKeyType, 'ed25519', 'an Ed25519 PKCS#8 key is read')
})

t.test('publicKeysFromText: LIVECUT_AUDIT_PUBLIC_KEY_INVALID, saying what is wrong, not quoting the key', async (t) => {
  const privateJwk = ed25519.privateKey.export({ format: 'jwk' })
  const refused: Array<[string, string, string, string]> = [
    ['a private JWK', JSON.stringify(privateJwk), 'holds a private key: give the public key only', privateJwk.d as string],
    ['a private PEM', ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 'is not a PEM public key', ''],
    ['an RSA public key', rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'holds a rsa key, not Ed25519', ''],
    ['a broken PEM', '-----BEGIN PUBLIC KEY-----\nAAAAbrokenBYTES\n-----END PUBLIC KEY-----', 'holds a public key that cannot be read', 'AAAAbrokenBYTES'],
    ['not JSON', 'AAAAnotjson', 'is neither a PEM public key nor JSON', 'AAAAnotjson'],
    ['an empty JWK Set', '{"keys":[]}', 'holds a JWK Set without keys', ''],
    ['another JWK', JSON.stringify(rsa.publicKey.export({ format: 'jwk' })), 'holds a JWK that is not an Ed25519 public key', '']
  ]
  for (const [name, text, problem, secret] of refused) {
    const error = thrownBy(() => publicKeysFromText(text))
    t.ok(error instanceof InvalidPublicKeyError, `${name}: the coded error`)
    t.equal(error.code, 'LIVECUT_AUDIT_PUBLIC_KEY_INVALID', `${name}: its code`)
    t.match(error.message, problem, `${name}: says what is wrong`)
    if (secret !== '') t.notOk(quotesKey(error.message, secret), `${name}: does not quote it`)
  }
})
