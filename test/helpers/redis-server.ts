import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface RedisServerProcess {
  /** redis://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  readonly running: boolean
  /** Starts redis-server on the port (again, after `kill`); resolves once it accepts connections. */
  start: () => Promise<void>
  /** SIGKILLs it, as a crash would; resolves once the process is gone. */
  kill: () => Promise<void>
}

const READY_LINE = 'Ready to accept connections'
const START_TIMEOUT_MS = 10_000

/** A port nothing listens on right now. */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/**
 * A redis-server child process of this test alone, on its own port, without persistence (a
 * restart starts empty), that the test may kill and start again. Not started until `start()`.
 * A machine without redis-server fails the test with a message that says so: it never skips.
 */
export async function createRedisServer (t: Teardown, options: { port?: number } = {}): Promise<RedisServerProcess> {
  const port = options.port ?? await freePort()
  let child: ChildProcess | null = null

  async function start (): Promise<void> {
    if (child !== null) throw new Error(`redis-server on port ${port} is already running`)
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let output = ''
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`redis-server on port ${port} not ready after ${START_TIMEOUT_MS} ms:\n${output}`)) }, START_TIMEOUT_MS)
        const onData = (chunk: Buffer): void => {
          output += chunk.toString()
          if (output.includes(READY_LINE)) { clearTimeout(timer); resolve() }
        }
        proc.stdout?.on('data', onData)
        proc.stderr?.on('data', onData)
        proc.once('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer)
          reject(error.code === 'ENOENT'
            ? new Error('redis-server is not on PATH: this test starts and kills its own Redis and cannot run without it (install redis-server, e.g. apt-get install redis-server)')
            : error)
        })
        proc.once('exit', (code, signal) => {
          clearTimeout(timer)
          reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output}`))
        })
      })
    } catch (error) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      child = null
      throw error
    }
    proc.stdout?.removeAllListeners('data')
    proc.stderr?.removeAllListeners('data')
    proc.stdout?.resume()
    proc.stderr?.resume()
  }

  async function kill (): Promise<void> {
    const proc = child
    if (proc === null) return
    child = null
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = once(proc, 'exit')
    proc.kill('SIGKILL')
    await exited
  }

  t.teardown(kill)
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running () { return child !== null },
    start,
    kill
  }
}
