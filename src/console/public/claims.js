// @ts-check
// What a token says about its holder, read (not verified: the service does that) to greet the
// auditor and to show only what the token may do.

/**
 * @typedef {{ sub: string | null, scopes: Set<string>, expiresAt: Date | null }} TokenClaims
 */

/** @param {string} part */
function decodeBase64Url (part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=')
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/**
 * The claims of a JWT, or null when the text is not shaped like one.
 * @param {string} token
 * @returns {TokenClaims | null}
 */
export function readClaims (token) {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  let payload
  try {
    payload = JSON.parse(decodeBase64Url(parts[1] ?? ''))
  } catch {
    return null
  }
  if (payload === null || typeof payload !== 'object') return null
  const scopes = new Set([
    ...(typeof payload.scope === 'string' ? payload.scope.split(' ') : []),
    ...(Array.isArray(payload.scp) ? payload.scp.map(String) : [])
  ].filter(Boolean))
  return {
    sub: typeof payload.sub === 'string' ? payload.sub : null,
    scopes,
    expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null
  }
}
