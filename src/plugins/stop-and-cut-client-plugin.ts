import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
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

const CIRCUIT_STATES = { closed: 0, half_open: 1, open: 2 } as const

export interface StopAndCutClientPluginOptions {
  upstream: Config['upstream']
  protection: Config['protection']
  /** The app's one clock. */
  now: () => number
  deps?: Pick<StopAndCutClientDeps, 'sleep' | 'random'>
}

/** The platform client for the app's life: one keep-alive pool, and this process's breaker and retry budget. */
async function stopAndCutClientPlugin (fastify: FastifyInstance, { upstream, protection, now, deps }: StopAndCutClientPluginOptions): Promise<void> {
  const breaker = new CircuitBreaker({
    failureThreshold: protection.breakerFailureThreshold,
    cooldownMs: protection.breakerCooldownMs,
    now,
    onStateChange: (change) => {
      const level = change.to === 'open' ? 'error' : 'warn'
      fastify.log[level]({ circuit: change }, `platform circuit ${change.from} → ${change.to} (${change.reason})`)
    }
  })
  // Read at each scrape: the breaker's open → half-open change happens when it is consulted.
  const gauge = new Gauge({
    name: 'livecut_upstream_circuit_state',
    help: 'Platform circuit breaker: 0 closed, 1 half-open, 2 open',
    registers: [fastify.metrics.registry],
    collect () { gauge.set(CIRCUIT_STATES[breaker.state]) }
  })
  const retryBudget = new RetryBudget({ ratio: protection.retryBudgetRatio, now })
  const client = createStopAndCutClient(upstream, { ...deps, now, breaker, retryBudget, tracer: fastify.tracer })
  fastify.decorate('stopAndCutClient', client)
  fastify.decorate('circuitBreaker', breaker)
  fastify.addHook('onClose', async () => { await client.close() })
}

export default fp(stopAndCutClientPlugin, { name: 'stop-and-cut-client', fastify: '5.x', dependencies: ['metrics', 'tracing'] })
