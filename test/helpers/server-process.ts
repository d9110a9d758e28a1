import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { join } from 'node:path'
import type { Test } from 'tap'
import { tempDir } from './temp-dir.ts'
import { PLATFORM_KEY } from './service.ts'
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './tokens.ts'

export interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>
  /** The service's own listener, as it logged it. */
  url: string
  auditUrl: string
  stderr: () => string
}

/** `npm start` as a process (src/server.ts) against `upstreamUrl`, with `env` on top; resolves once it listens. */
export async function startServerProcess (t: Test, upstreamUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const auditUrl = `sqlite:${join(tempDir(t), 'audit.db')}`
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      UPSTREAM_BASE_URL: upstreamUrl,
      UPSTREAM_API_KEY: PLATFORM_KEY,
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      AUDIT_STORE_URL: auditUrl,
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += String(chunk) })
  let output = ''
  let url: string | undefined
  for await (const chunk of child.stdout) {
    output += String(chunk)
    url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
    if (url !== undefined) break
  }
  if (url === undefined) throw new Error(`the server did not start:\n${output}\n${stderr}`)
  child.stdout.resume()
  return { child, url, auditUrl, stderr: () => stderr }
}
