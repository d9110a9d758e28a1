import { PassThrough } from 'node:stream'
import { main } from '../../src/cli/audit.ts'

export interface CliResult { code: number, stdout: string, stderr: string }

/** The audit command line's `main` in this process, its output captured. */
export async function cliInProcess (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (chunk: Buffer) => out.push(chunk))
  stderr.on('data', (chunk: Buffer) => err.push(chunk))
  const code = await main(args, { stdout, stderr, env })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}
