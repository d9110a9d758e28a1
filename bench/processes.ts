/**
 * The benchmark's servers run in child processes, so that the load generator (this process)
 * and each server have their own event loop, and so that the memory and CPU measured are the
 * server's own. A child announces its URL over IPC; the parent asks it questions the same way.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'

export interface ChildMessage {
  id?: number
  type: string
  [key: string]: unknown
}

export interface ServerProcess {
  name: string
  pid: number
  url: string
  /** Sends a request to the child and waits for its answer. */
  ask: (type: string, payload?: Record<string, unknown>) => Promise<ChildMessage>
  /** Asks the child to close its server and exit; resolves when it has exited. */
  stop: () => Promise<number | null>
}

export interface StartOptions {
  env?: Record<string, string>
  execArgv?: string[]
  /** Pipe the child's stdout here (default: discarded, so a chatty server does not load this process). */
  stdout?: 'ignore' | 'inherit'
  readyTimeoutMs?: number
}

/** Forks `script` (a .ts file run by this same Node) and waits for its `ready` message. */
export async function startServerProcess (name: string, script: string, options: StartOptions = {}): Promise<ServerProcess> {
  const child: ChildProcess = fork(script, [], {
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit', 'ipc']
  })
  const pending = new Map<number, (message: ChildMessage) => void>()
  let nextId = 1
  let exited!: Promise<number | null>
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name}: no ready message within ${options.readyTimeoutMs ?? 60_000} ms`))
    }, options.readyTimeoutMs ?? 60_000)
    exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`))
        resolveExit(code)
      })
    })
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve(message.url as string)
      } else if (message.id !== undefined) {
        pending.get(message.id)?.(message)
        pending.delete(message.id)
      }
    })
  })
  return {
    name,
    pid: child.pid as number,
    url,
    ask: async (type, payload = {}) => await new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, resolve)
      child.send({ id, type, ...payload }, (error) => { if (error !== null) reject(error) })
    }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'stop' })
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
        const code = await exited
        clearTimeout(killer)
        return code
      }
      return child.exitCode
    }
  }
}

/**
 * The child's side: announces `url`, answers requests with `handlers` (and `memory` with
 * `memoryReport`), and on `stop` runs `close` and exits (normally, so that `--cpu-prof` writes
 * its profile).
 */
export function serveParent (url: string, close: () => Promise<void>, handlers: Record<string, (message: ChildMessage) => Promise<Record<string, unknown>> | Record<string, unknown>> = {}): void {
  if (process.send === undefined) throw new Error('this script runs as a child of bench/run.ts (it needs an IPC channel)')
  const send = process.send.bind(process)
  process.on('message', (message: ChildMessage) => {
    if (message.type === 'stop') {
      close().then(() => process.exit(0), (error: unknown) => {
        console.error(error)
        process.exit(1)
      })
      return
    }
    const handler = handlers[message.type] ?? (message.type === 'memory' ? memoryReport : undefined)
    Promise.resolve(handler === undefined ? { error: `unknown request ${message.type}` } : handler(message))
      .then((answer) => send({ id: message.id, type: message.type, ...answer }))
      .catch((error: unknown) => send({ id: message.id, type: message.type, error: String(error) }))
  })
  // The parent is gone: nothing will stop this process otherwise.
  process.on('disconnect', () => { close().finally(() => process.exit(0)) })
  send({ type: 'ready', url })
}

/** The asking process's memory, after a full garbage collection when started with --expose-gc. */
export function memoryReport (): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024 * 10) / 10
  return { afterGc: gc !== undefined, rssMiB: mib(rss), heapUsedMiB: mib(heapUsed), heapTotalMiB: mib(heapTotal), externalMiB: mib(external), arrayBuffersMiB: mib(arrayBuffers) }
}

function procStatusKb (pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? null : Number(match[1])
  } catch {
    return null
  }
}

/** Resident set size now, in MiB (Linux /proc). */
export function rssMiB (pid: number): number | null {
  const kb = procStatusKb(pid, 'VmRSS')
  return kb === null ? null : kb / 1024
}

/** The highest resident set size the process has had, in MiB (VmHWM). */
export function peakRssMiB (pid: number): number | null {
  const kb = procStatusKb(pid, 'VmHWM')
  return kb === null ? null : kb / 1024
}

const CLOCK_TICKS_PER_SECOND = 100

/** CPU seconds (user + system) a process has used so far; null when it cannot be read. */
export function cpuSeconds (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return null
  }
}

/** CPU seconds used by every process whose command is `postgres` (the server and its backends). */
export function postgresCpuSeconds (): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue
    } catch {
      continue
    }
    total += cpuSeconds(Number(entry)) ?? 0
  }
  return total
}

/** CPU seconds the whole machine has spent busy (every CPU, /proc/stat: all but idle and iowait). */
export function machineBusySeconds (): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[]
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND
}

/** Restricts a process (all its threads) to one CPU; false when taskset is missing or refused. */
export function pinToCpu (pid: number, cpu: number): boolean {
  if (cpu >= cpus().length) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Lets a process run on every CPU again. */
export function unpin (pid: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(pid)], { stdio: 'ignore' })
  } catch {
    // Not pinned, or no taskset: nothing to undo.
  }
}
