/**
 * `npm run simulator`: the platform simulator as a process, configured by environment.
 * `startSimulator` runs it on a port (0 = ephemeral) for the service's tests, demo and benchmarks.
 */
import { buildSimulator, defaultApiKeys, type SimulatorApp, type SimulatorOptions } from './simulator-app.ts'

export interface StartSimulatorOptions extends SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: an ephemeral port. */
  port?: number
}

export interface RunningSimulator {
  /** Origin to use as the platform's base URL, e.g. http://127.0.0.1:40123 */
  url: string
  app: SimulatorApp
  close: () => Promise<void>
}

export async function startSimulator (options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const { host = '127.0.0.1', port = 0, ...simulatorOptions } = options
  const app = buildSimulator(simulatorOptions)
  const url = await app.listen({ host, port })
  return { url, app, close: () => app.close() }
}

/** Options from SIMULATOR_* variables; an unset or empty variable takes its default. */
export function simulatorOptionsFromEnv (env: NodeJS.ProcessEnv = process.env): StartSimulatorOptions {
  const text = (name: string): string | undefined => env[name] === '' ? undefined : env[name]
  const number = (name: string): number | undefined => {
    const value = text(name)
    if (value === undefined) return undefined
    const parsed = Number(value)
    if (Number.isNaN(parsed)) throw new Error(`${name} must be a number, got ${JSON.stringify(value)}`)
    return parsed
  }
  return {
    host: text('SIMULATOR_HOST') ?? '127.0.0.1',
    port: number('SIMULATOR_PORT') ?? 4010,
    // Several keys may be given separated by commas, for per-project keys.
    apiKeys: text('SIMULATOR_API_KEY')?.split(',').map((key) => key.trim()) ?? defaultApiKeys,
    authHeader: text('SIMULATOR_AUTH_HEADER'),
    // Empty is meaningful here (bare key), so read it as it is.
    authScheme: env.SIMULATOR_AUTH_SCHEME,
    rate503: number('SIMULATOR_RATE_503'),
    rate500: number('SIMULATOR_RATE_500'),
    rateReset: number('SIMULATOR_RATE_RESET'),
    latencyMs: number('SIMULATOR_LATENCY_MS'),
    retryAfterSeconds: number('SIMULATOR_RETRY_AFTER_SECONDS')
  }
}

if (import.meta.main) {
  try {
    const { url, close } = await startSimulator(simulatorOptionsFromEnv())
    console.log(`platform simulator listening on ${url}`)
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        close().then(() => process.exit(0), (error: unknown) => {
          console.error(error)
          process.exit(1)
        })
      })
    }
  } catch (error) {
    console.error(`platform simulator could not start: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
}
