/**
 * For the experiments' preloads: the service's audit-store opener (src/audit/open-audit-store.ts)
 * gets `replacement` where it imports src/audit/sqlite-audit-store.ts. Every other importer, the
 * replacement itself included, still gets the real module.
 */
import { registerHooks } from 'node:module'

export function swapSqliteStore (replacement: string): void {
  registerHooks({
    resolve (specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context)
      if (resolved.url.endsWith('/src/audit/sqlite-audit-store.ts') && context.parentURL?.endsWith('/src/audit/open-audit-store.ts') === true) {
        return { ...resolved, url: replacement }
      }
      return resolved
    }
  })
}
