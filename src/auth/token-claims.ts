/** The claims the service reads from a verified access token. */
export interface TokenClaims {
  sub?: string
  scope?: string
  scp?: string[] | string
  azp?: string
  client_id?: string
  [claim: string]: unknown
}

/** Scopes from `scope` (space-separated) and `scp` (array, or string as some providers send it). */
export function scopesOf (claims: TokenClaims): Set<string> {
  const scopes = new Set<string>()
  const add = (value: unknown): void => {
    if (typeof value === 'string') for (const scope of value.split(' ')) if (scope !== '') scopes.add(scope)
    if (Array.isArray(value)) for (const scope of value) if (typeof scope === 'string') scopes.add(scope)
  }
  add(claims.scope)
  add(claims.scp)
  return scopes
}

/** The projects a caller may act on: `'*'` for all, otherwise the listed ids. */
export function projectsOf (claims: TokenClaims, claimName: string): readonly string[] | '*' {
  const value = claims[claimName]
  if (value === '*') return '*'
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value)) return []
  const projects = value.filter((project): project is string => typeof project === 'string')
  return projects.includes('*') ? '*' : projects
}

export function clientIdOf (claims: TokenClaims): string | null {
  const clientId = claims.azp ?? claims.client_id
  return typeof clientId === 'string' ? clientId : null
}
