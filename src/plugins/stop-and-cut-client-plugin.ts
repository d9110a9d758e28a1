import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/load-config.ts'
import { CircuitBreaker } from '../upstream/circuit-breaker.ts'
import { RetryBudget } from '../upstream/retry-budget.ts'
import { createStopAndCutClient, type StopAndCutClientDeps } from '../upstream/stop-and-cut-client.ts'

declare module 'fastify' {
  interface FastifyInstance {
    stopAndCutClient: ReturnType<typeof createStopAndCutClient>
    circuitBreaker: CircuitBreaker
  }
}

/** The platform client for the app's life: one keep-alive pool, and this process's breaker and retry budget. */
async function stopAndCutClientPlugin (fastify: FastifyInstance, { config, now, deps }: { config: Config, now: () => number, deps?: Pick<StopAndCutClientDeps, 'sleep' | 'random'> }): Promise<void> {
  const breaker = new CircuitBreaker({
    failureThreshold: config.protection.breakerFailureThreshold,
    cooldownMs: config.protection.breakerCooldownMs,
    now,
    onStateChange: (change) => {
      const level = change.to === 'open' ? 'error' : 'warn'
      fastify.log[level]({ circuit: change }, `platform circuit ${change.from} → ${change.to} (${change.reason})`)
    }
  })
  const retryBudget = new RetryBudget({ ratio: config.protection.retryBudgetRatio, now })
  const client = createStopAndCutClient(config.upstream, { ...deps, now, breaker, retryBudget, tracer: fastify.tracer })
  fastify.decorate('stopAndCutClient', client)
  fastify.decorate('circuitBreaker', breaker)
  fastify.addHook('onClose', async () => { await client.close() })
}

export default fp(stopAndCutClientPlugin, { name: 'stop-and-cut-client', fastify: '5.x' })
