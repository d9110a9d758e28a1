/**
 * One load run, and what the benchmark reports of it. Latency is taken from every response at
 * the client, in fractional milliseconds (autocannon's own histogram rounds to whole
 * milliseconds, too coarse for a 2 ms budget).
 *
 * As fast as the server answers (closed loop, `connections` requests outstanding): autocannon.
 * At a fixed rate (open loop): `runPaced`, because autocannon's rate limit lets every
 * connection send its quota at the start of each second, in one burst, so its latencies at a
 * "fixed rate" measure queueing behind that burst.
 */
import autocannon from 'autocannon'
import { Pool } from 'undici'

export interface LoadSpec {
  /** Origin of the server under load. */
  url: string
  connections: number
  /** Seconds; ignored when `amount` is set. */
  durationSeconds?: number
  /** Stop after this many requests. */
  amount?: number
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  /** The path of the n-th request (n from 0): each cut names a video of its own. */
  path: (n: number) => string
}

export interface LatencySummary {
  p50: number
  p97_5: number
  p99: number
  max: number
  mean: number
}

export interface LoadResult {
  /** Responses received, of any status. */
  responses: number
  /** 2xx responses per second of the run. */
  requestsPerSecond: number
  latencyMs: LatencySummary
  /** Connection errors, timeouts included. */
  errors: number
  timeouts: number
  non2xx: number
  statusCodes: Record<string, number>
  durationSeconds: number
  /** Requests built (paths handed out), answered or not. */
  issued: number
}

/** The q-quantile (0 < q ≤ 1) of sorted values, nearest rank. */
function quantile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000

export function summariseLatencies (values: number[]): LatencySummary {
  const sorted = values.slice().sort((a, b) => a - b)
  let sum = 0
  for (const value of sorted) sum += value
  return {
    p50: round3(quantile(sorted, 0.5)),
    p97_5: round3(quantile(sorted, 0.975)),
    p99: round3(quantile(sorted, 0.99)),
    max: round3(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1] as number),
    mean: round3(sorted.length === 0 ? Number.NaN : sum / sorted.length)
  }
}

export async function runLoad (spec: LoadSpec): Promise<LoadResult> {
  let issued = 0
  const latencies: number[] = []
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSeconds ?? 10 }),
    requests: [{
      method: spec.method,
      headers: spec.headers,
      ...(spec.body !== undefined && { body: spec.body }),
      setupRequest: (request) => ({ ...request, path: spec.path(issued++) })
    }]
  })
  // Kept apart from the array, to check the summary against.
  let count = 0
  let sum = 0
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode < 200 || statusCode >= 300) return
    latencies.push(responseTime)
    count++
    sum += responseTime
  })
  const result = await instance
  const latencyMs = summariseLatencies(latencies)
  // Once, identical summaries came out of different runs; a summary that does not match what
  // was counted makes the run fail instead of reporting a wrong number.
  if (latencies.length !== count || (count > 0 && Math.abs(latencyMs.mean - sum / count) > 0.001)) {
    throw new Error(`latency bookkeeping is inconsistent: ${latencies.length} samples (counted ${count}), mean ${latencyMs.mean} (counted ${sum / count})`)
  }
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]))
  const responses = Object.values(statusCodes).reduce((sum, count) => sum + count, 0)
  return {
    responses,
    requestsPerSecond: Math.round(result['2xx'] / result.duration),
    latencyMs,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    durationSeconds: result.duration,
    issued
  }
}

/** Why a run does not count (any error, timeout or non-2xx answer), or null when it is clean. */
export function loadProblem (result: LoadResult): string | null {
  if (result.errors === 0 && result.timeouts === 0 && result.non2xx === 0 && result.responses > 0) return null
  const codes = Object.entries(result.statusCodes).filter(([code]) => !code.startsWith('2')).map(([code, count]) => `${count}×${code}`)
  return `${result.errors} errors (${result.timeouts} timeouts), ${result.non2xx} non-2xx${codes.length > 0 ? ` (${codes.join(', ')})` : ''}${result.responses === 0 ? ', no response at all' : ''}`
}

/**
 * Open loop at `rate` requests per second, evenly spaced, for `durationSeconds`, over at most
 * `connections` keep-alive connections. Each latency runs from the moment the request was due,
 * so a server that stalls is charged for the requests that waited (no coordinated omission).
 */
export async function runPaced (spec: LoadSpec & { rate: number }): Promise<LoadResult> {
  const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1 })
  const total = Math.max(1, Math.round(spec.rate * (spec.durationSeconds ?? 10)))
  const interval = 1000 / spec.rate
  const latencies: number[] = []
  const statusCodes: Record<string, number> = {}
  let errors = 0
  let timeouts = 0
  const inFlight = new Set<Promise<void>>()
  const fire = (n: number, due: number): void => {
    const done = pool.request({ method: spec.method, path: spec.path(n), headers: spec.headers, body: spec.body ?? null, headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (response) => {
        await response.body.dump()
        const code = String(response.statusCode)
        statusCodes[code] = (statusCodes[code] ?? 0) + 1
        if (response.statusCode >= 200 && response.statusCode < 300) latencies.push(performance.now() - due)
      }, (error: { code?: string }) => {
        errors++
        if (error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_BODY_TIMEOUT') timeouts++
      })
      .finally(() => { inFlight.delete(done) })
    inFlight.add(done)
  }
  const start = performance.now()
  let sent = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1)
      while (sent < due) {
        fire(sent, start + sent * interval)
        sent++
      }
      if (sent >= total) resolve()
      else setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
    }
    tick()
  })
  await Promise.all(inFlight)
  const durationSeconds = (performance.now() - start) / 1000
  await pool.close()
  const responses = Object.values(statusCodes).reduce((sum, count) => sum + count, 0)
  const ok = Object.entries(statusCodes).filter(([code]) => code.startsWith('2')).reduce((sum, [, count]) => sum + count, 0)
  return {
    responses,
    requestsPerSecond: Math.round(ok / durationSeconds),
    latencyMs: summariseLatencies(latencies),
    errors,
    timeouts,
    non2xx: responses - ok,
    statusCodes,
    durationSeconds: Math.round(durationSeconds * 100) / 100,
    issued: sent
  }
}
