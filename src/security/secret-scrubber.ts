import type { KeyObject } from 'node:crypto'
import type { Config, UpstreamConfig } from '../config/load-config.ts'

export const REDACTED = '[REDACTED]'

// Anything shaped like a JWT, wherever it stands (glued to other text too): a base64url JSON
// header (`{"` and `{ ` encode to `ey…`, `{` and a line break to `ew…`), then either a JSON
// payload and a signature (JWS), or four more segments (JWE: key, IV, ciphertext, tag).
const JWT_PATTERN = /e[wy][\w-]{8,}\.(?:[\w-]*\.[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|e[wy][\w-]{2,}\.[\w-]*)/g
// A secret shorter than this would redact ordinary words; configured keys are far longer.
const MIN_SECRET_LENGTH = 4

/** Removes secrets from text, and from every string and key of a JSON-like value. */
export interface SecretScrubber {
  text: (value: string) => string
  value: (value: unknown) => unknown
}

/** The platform keys of an upstream configuration. */
export function platformKeysOf (upstream: UpstreamConfig): string[] {
  return [upstream.apiKey, ...Object.values(upstream.apiKeys)].filter((value): value is string => value !== null)
}

/**
 * A scrubber for these exact secrets, for any `<scheme> <credential>` of the given
 * authorization schemes (Bearer always; RFC 6750's token characters), and for anything JWT-shaped.
 */
export function createSecretScrubber (secrets: readonly string[], schemes: readonly string[] = []): SecretScrubber {
  const literals = new Set<string>()
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue
    literals.add(secret)
    // As it appears inside a serialised JSON string (a log line), should it hold " or \.
    literals.add(JSON.stringify(secret).slice(1, -1))
  }
  // Longest first, so that a key holding another key is removed whole.
  const ordered = [...literals].sort((a, b) => b.length - a.length)
  const schemeNames = [...new Set(['Bearer', ...schemes.map((scheme) => scheme.trim()).filter((scheme) => scheme !== '')])]
  const escaped = schemeNames.map((scheme) => scheme.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const credential = new RegExp(`\\b(${escaped.join('|')})(\\s+)[\\w.~+/-]+=*`, 'gi')

  function text (value: string): string {
    let clean = value
    for (const secret of ordered) if (clean.includes(secret)) clean = clean.replaceAll(secret, REDACTED)
    return clean.replace(JWT_PATTERN, REDACTED).replace(credential, `$1$2${REDACTED}`)
  }

  function value (input: unknown): unknown {
    if (typeof input === 'string') return text(input)
    if (Array.isArray(input)) return input.map(value)
    if (typeof input === 'object' && input !== null) {
      return Object.fromEntries(Object.entries(input).map(([key, item]) => [text(key), value(item)]))
    }
    return input
  }

  return { text, value }
}

/** The checkpoint signing key as it can appear in text: its PKCS#8 PEM, each base64 line of it, its JWK's private member. */
function signingKeyTexts (key: KeyObject): string[] {
  const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString()
  const lines = pem.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('-----'))
  const { d } = key.export({ format: 'jwk' })
  return [pem.trim(), ...lines, ...(d === undefined ? [] : [d])]
}

/**
 * The service's scrubber: every configured platform key, the JWT secret, the checkpoint signing
 * key, the upstream scheme's credentials, bearer tokens, JWTs.
 */
export function scrubberFor (config: Config): SecretScrubber {
  const secrets = [
    ...platformKeysOf(config.upstream),
    ...(config.jwt.secret === null ? [] : [config.jwt.secret]),
    ...signingKeyTexts(config.auditCheckpoints.signingKey)
  ]
  return createSecretScrubber(secrets, [config.upstream.authScheme])
}
