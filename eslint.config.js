// The Fastify ecosystem's style (neostandard, as fastify/demo uses), with its TypeScript rules.
import neostandard from 'neostandard'
import globals from 'globals'

export default [
  ...neostandard({
    ts: true,
    ignores: ['node_modules/**', 'clients/typescript/types/**', 'bench/results/**', 'test/artifacts/**', 'data/**']
  }),
  {
    rules: {
      // `void promise` marks a deliberate fire-and-forget (the promise handles its own errors).
      'no-void': ['error', { allowAsStatement: true }],
      // Named for what they settle (resolveExit), not only `resolve`.
      'promise/param-names': ['error', { resolvePattern: '^_?resolve', rejectPattern: '^_?reject' }],
      // An AbortSignal's reason is the abort error the caller chose; passing it on is right.
      'prefer-promise-reject-errors': 'off'
    }
  },
  {
    // The audit review console's scripts run in the browser.
    files: ['src/console/public/**/*.js'],
    languageOptions: { globals: globals.browser }
  },
  {
    files: ['test/**'],
    rules: {
      // Tests wait for flags that callbacks set; the rule cannot see the closure.
      'no-unmodified-loop-condition': 'off'
    }
  }
]
