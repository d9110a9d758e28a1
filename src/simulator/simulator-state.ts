import type { IncomingHttpHeaders } from 'node:http'
import { Type, type Static } from 'typebox'

/**
 * The simulator's memory, without Fastify: faults to inject, calls received, videos stopped.
 * `buildSimulator` decorates the app with it as `app.simulator`, so in-process tests use the
 * same functions the `/__simulator/*` control endpoints call.
 */

/** One scripted answer; each stop-and-cut call consumes the next one, before normal handling. */
export const ScriptedFaultSchema = Type.Union([
  // retryAfter: seconds (sent as a number), or a string sent verbatim (an HTTP date, or garbage on purpose)
  Type.Object({ kind: Type.Literal('503'), retryAfter: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String()])) }),
  Type.Object({ kind: Type.Literal('500') }),
  // afterCut: the platform stops the video, then the connection drops before the answer
  Type.Object({ kind: Type.Literal('reset'), afterCut: Type.Optional(Type.Boolean()) }),
  Type.Object({ kind: Type.Literal('delay'), ms: Type.Integer({ minimum: 0 }) }),
  Type.Object({ kind: Type.Literal('hang') }),
  // body: a string is sent as it is (non-JSON answers), anything else as JSON
  Type.Object({
    kind: Type.Literal('status'),
    status: Type.Integer({ minimum: 200, maximum: 599 }),
    body: Type.Optional(Type.Unknown()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String()))
  })
])
/** In process, a 503's `retryAfter` may also be a Date, sent as an HTTP date. */
export type ScriptedFault = Static<typeof ScriptedFaultSchema> | { kind: '503', retryAfter: Date }

/** Shares of calls that meet a fault when no scripted fault is queued (demos, benchmarks). */
export const FaultSharesSchema = Type.Object({
  rate503: Type.Optional(Type.Number({ description: 'share of calls answered 503 (0..1)' })),
  retryAfterSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Retry-After sent with those 503s; null or absent sends none'
  })),
  rate500: Type.Optional(Type.Number({ description: 'share of calls answered 500 (0..1)' })),
  rateReset: Type.Optional(Type.Number({ description: 'share of calls whose connection is destroyed unanswered (0..1)' })),
  latencyMs: Type.Optional(Type.Integer({ minimum: 0, description: 'added before every stop-and-cut answer' }))
})
export type FaultShares = Static<typeof FaultSharesSchema>

export const FaultsUpdateSchema = Type.Object({
  ...FaultSharesSchema.properties,
  script: Type.Optional(Type.Array(ScriptedFaultSchema, { description: 'replaces the queued script' }))
})
export type FaultsUpdate = FaultShares & { script?: ScriptedFault[] }

export interface RecordedCall {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: unknown
}

export interface SimulatorStateOptions extends FaultShares {
  script?: ScriptedFault[]
  /** Draws for the shares; inject a sequence in tests. */
  random?: () => number
  /** Off in long benchmarks that do not need the record. */
  recordCalls?: boolean
  /** Only the newest calls are kept, so a benchmark does not grow memory without bound. */
  maxRecordedCalls?: number
}

const defaultMaxRecordedCalls = 1000

/** Why these shares cannot be used, or undefined when they can. */
function sharesProblem (shares: FaultShares): string | undefined {
  const rates = { rate503: shares.rate503 ?? 0, rate500: shares.rate500 ?? 0, rateReset: shares.rateReset ?? 0 }
  for (const [name, rate] of Object.entries(rates)) {
    if (!(rate >= 0 && rate <= 1)) return `${name} must be between 0 and 1, got ${rate}`
  }
  // One draw picks at most one fault, so the shares must fit in one.
  const total = rates.rate503 + rates.rate500 + rates.rateReset
  if (total > 1) return `rate503 + rate500 + rateReset must not exceed 1, got ${total}`
  if (shares.latencyMs != null && !(Number.isInteger(shares.latencyMs) && shares.latencyMs >= 0)) {
    return `latencyMs must be a whole number of milliseconds, got ${shares.latencyMs}`
  }
  if (shares.retryAfterSeconds != null && !(Number.isInteger(shares.retryAfterSeconds) && shares.retryAfterSeconds >= 0)) {
    return `retryAfterSeconds must be a whole number of seconds, got ${shares.retryAfterSeconds}`
  }
  return undefined
}

export function createSimulatorState (options: SimulatorStateOptions = {}) {
  const random = options.random ?? Math.random
  const recordCalls = options.recordCalls ?? true
  const maxRecordedCalls = options.maxRecordedCalls ?? defaultMaxRecordedCalls
  let shares: Required<FaultShares> = { rate503: 0, retryAfterSeconds: null, rate500: 0, rateReset: 0, latencyMs: 0 }
  let script: ScriptedFault[] = []
  let calls: RecordedCall[] = []
  // Any id is a live video until stopped, so only stopped ids are kept: projectId → video ids.
  let stopped = new Map<string, Set<string>>()

  function setFaults (update: FaultsUpdate): void {
    // Absent fields keep their value; a null retryAfterSeconds removes the header.
    const next = {
      rate503: update.rate503 ?? shares.rate503,
      retryAfterSeconds: update.retryAfterSeconds === undefined ? shares.retryAfterSeconds : update.retryAfterSeconds,
      rate500: update.rate500 ?? shares.rate500,
      rateReset: update.rateReset ?? shares.rateReset,
      latencyMs: update.latencyMs ?? shares.latencyMs
    }
    const problem = sharesProblem(next)
    if (problem !== undefined) throw new RangeError(problem)
    shares = next
    if (update.script !== undefined) script = [...update.script]
  }

  setFaults(options)

  return {
    record (call: RecordedCall): void {
      if (!recordCalls) return
      calls.push(call)
      if (calls.length > maxRecordedCalls) calls.shift()
    },
    /** The recorded stop-and-cut calls, oldest first. */
    calls: (): RecordedCall[] => [...calls],
    /** Replaces the queued script. */
    script (faults: ScriptedFault[]): void { script = [...faults] },
    /** Replaces the given shares and, when given, the script; throws RangeError on bad shares. */
    setFaults,
    faults: () => ({ ...shares, script: [...script] }),
    latencyMs: (): number => shares.latencyMs,
    /** The fault the next call meets: the next scripted one, else one draw against the shares. */
    nextFault (): ScriptedFault | undefined {
      const scripted = script.shift()
      if (scripted !== undefined) return scripted
      if (shares.rate503 + shares.rate500 + shares.rateReset === 0) return undefined
      const draw = random()
      if (draw < shares.rate503) {
        return shares.retryAfterSeconds === null ? { kind: '503' } : { kind: '503', retryAfter: shares.retryAfterSeconds }
      }
      if (draw < shares.rate503 + shares.rate500) return { kind: '500' }
      if (draw < shares.rate503 + shares.rate500 + shares.rateReset) return { kind: 'reset' }
      return undefined
    },
    /** Stops a live video; false when it was already stopped (a video is stopped once). */
    stop (projectId: string, videoId: string): boolean {
      let videos = stopped.get(projectId)
      if (videos === undefined) stopped.set(projectId, videos = new Set())
      if (videos.has(videoId)) return false
      videos.add(videoId)
      return true
    },
    isStopped: (projectId: string, videoId: string): boolean => stopped.get(projectId)?.has(videoId) ?? false,
    /** Clears calls, script and stopped videos; the shares stay as they are. */
    reset (): void {
      calls = []
      script = []
      stopped = new Map()
    }
  }
}

export type SimulatorState = ReturnType<typeof createSimulatorState>
