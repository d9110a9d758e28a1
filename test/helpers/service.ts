import { join } from 'node:path'
import { Writable } from 'node:stream'
import { buildApp, type App, type BuildOptions } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config/load-config.ts'
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../../src/simulator/server.ts'
import { tempDir } from './temp-dir.ts'
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './tokens.ts'

export const PLATFORM_KEY = 'platform-key-for-tests-5b1f0c'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Every log line the app wrote, as text and parsed. */
export class LogCapture extends Writable {
  lines: string[] = []
  override _write (chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean))
    callback()
  }

  get text (): string { return this.lines.join('\n') }
  get records (): Array<Record<string, unknown>> { return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}

export interface ServiceUnderTest {
  app: App
  config: Config
  simulator: RunningSimulator
  logs: LogCapture
}

/**
 * The service as the server builds it, against a simulator on a loopback port and a fresh
 * SQLite audit file. Retry waits are short so 503 runs do not slow the suite.
 */
export async function startService (t: Teardown, options: { env?: Record<string, string>, simulator?: StartSimulatorOptions, build?: BuildOptions } = {}): Promise<ServiceUnderTest> {
  const simulator = await startSimulator({ apiKeys: [PLATFORM_KEY], ...options.simulator })
  t.teardown(() => simulator.close())
  const { config } = loadConfig({
    NODE_ENV: 'test',
    UPSTREAM_BASE_URL: simulator.url,
    UPSTREAM_API_KEY: PLATFORM_KEY,
    UPSTREAM_RETRY_BASE_MS: '1',
    UPSTREAM_RETRY_MAX_MS: '4',
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    AUDIT_STORE_URL: `sqlite:${join(tempDir(t), 'audit.db')}`,
    LOG_LEVEL: 'info',
    // Protections out of the way unless a test is about them.
    RATE_LIMIT_CUT_MAX: '100000',
    RATE_LIMIT_IP_MAX: '100000',
    BREAKER_FAILURE_THRESHOLD: '1000',
    RETRY_BUDGET_RATIO: '10',
    ...options.env
  })
  const logs = new LogCapture()
  const app = await buildApp(config, { logDestination: logs, ...options.build })
  t.teardown(() => app.close())
  await app.ready()
  return { app, config, simulator, logs }
}
