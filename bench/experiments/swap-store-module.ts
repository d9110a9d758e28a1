/**
 * For the experiments' preloads: where the service's audit-store opener
 * (src/audit/open-audit-store.ts) imports src/audit/<store>.ts, it gets `replacement` instead.
 * Every other importer, the replacement itself included, still gets the real module.
 */
import { registerHooks } from 'node:module'

export function swapStoreModule (store: 'sqlite-audit-store' | 'postgres-audit-store', replacement: string): void {
  registerHooks({
    resolve (specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context)
      if (resolved.url.endsWith(`/src/audit/${store}.ts`) && context.parentURL?.endsWith('/src/audit/open-audit-store.ts') === true) {
        return { ...resolved, url: replacement }
      }
      return resolved
    }
  })
}
