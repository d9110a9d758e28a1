/**
 * The platform simulator: the platform's stop-and-cut endpoint as its document describes it,
 * with injectable faults, for the demo, the tests and the benchmarks. A separate small app.
 *
 *   POST /api/v2/:projectId/live-videos/:id/stop-and-cut   the platform endpoint
 *   GET  /__simulator/calls    recorded stop-and-cut calls (method, path, headers, body), oldest first
 *   GET  /__simulator/faults   current shares and queued script
 *   POST /__simulator/faults   FaultsUpdate: replaces the given shares and, when given, the script
 *   POST /__simulator/reset    clears calls, script and stopped videos (shares stay)
 *
 * In process, the same operations are on `app.simulator` (see SimulatorState): `calls()`,
 * `script([...])`, `setFaults({...})`, `faults()`, `isStopped(projectId, id)`, `reset()`.
 * Order of a call: record → latency → fault (scripted, else drawn) → key → body → video.
 */
import assert from 'node:assert'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleepFor } from 'node:timers/promises'
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import {
  createSimulatorState,
  FaultsUpdateSchema,
  type ScriptedFault,
  type SimulatorState,
  type SimulatorStateOptions
} from './simulator-state.ts'

export interface SimulatorOptions extends SimulatorStateOptions {
  /** Keys the platform accepts. */
  apiKeys?: string[]
  /** Header that carries the key (any case). */
  authHeader?: string
  /** Prefix before the key; '' accepts the bare key. */
  authScheme?: string
  visibilityOptionIds?: number[]
  /** Video ids that do not exist (404). */
  missingVideoPattern?: RegExp
  /** Waits for latency and delay faults; rejects when aborted (the app closing). Inject in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>
  logger?: FastifyServerOptions['logger']
}

export const defaultApiKeys = ['dev-platform-key']
const defaultVisibilityOptionIds = [1, 2, 3]
const defaultMissingVideoPattern = /^missing/

const NullableMilliseconds = Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]))
const NullableDateTime = Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()]))
/** The platform's body, its spelling included (`Milisecond`). Absent range fields count as null. */
export const StopAndCutBodySchema = Type.Object({
  fromMilisecond: NullableMilliseconds,
  toMilisecond: NullableMilliseconds,
  dateTimeFrom: NullableDateTime,
  dateTimeTo: NullableDateTime,
  videoVisibilityOptionId: Type.Integer()
})
type StopAndCutBody = Static<typeof StopAndCutBodySchema>

const StopAndCutParamsSchema = Type.Object({ projectId: Type.String(), id: Type.String() })

/** The platform's answer envelope for a failure. */
export function failureEnvelope (statusCode: number, errors: string[], messages: string[] = []) {
  return { success: false, errors, messages, result: null, resultInfo: null, statusCode }
}

// What the platform's edge (Varnish) answers when its backend is down: HTML, not the envelope.
const backendFetchFailedPage = '<!DOCTYPE html>\n<html><head><title>503 Backend fetch failed</title></head>' +
  '<body><h1>Error 503 Backend fetch failed</h1><p>Backend fetch failed</p></body></html>\n'

/** Why the cut range or visibility is refused, or undefined. The document's usage rules. */
function bodyProblem (body: StopAndCutBody, visibilityOptionIds: number[]): string | undefined {
  if (!visibilityOptionIds.includes(body.videoVisibilityOptionId)) {
    return `Unknown videoVisibilityOptionId ${body.videoVisibilityOptionId}`
  }
  const hasMilliseconds = body.fromMilisecond != null || body.toMilisecond != null
  const hasDateTimes = body.dateTimeFrom != null || body.dateTimeTo != null
  if (hasMilliseconds && hasDateTimes) return 'Use either the millisecond fields or the datetime fields, not both'
  if (hasMilliseconds) return rangeProblem('fromMilisecond', body.fromMilisecond, 'toMilisecond', body.toMilisecond)
  if (hasDateTimes) {
    const from = body.dateTimeFrom == null ? null : Date.parse(body.dateTimeFrom)
    const to = body.dateTimeTo == null ? null : Date.parse(body.dateTimeTo)
    return rangeProblem('dateTimeFrom', from, 'dateTimeTo', to)
  }
  return undefined // all null: the whole stream becomes the VOD
}

function rangeProblem (fromName: string, from: number | null | undefined, toName: string, to: number | null | undefined) {
  if (from == null || to == null) return `${fromName} and ${toName} must be given together`
  if (from >= to) return `${fromName} must be before ${toName}`
  return undefined
}

/** Ends the exchange without an answer: the client sees its socket closed. */
function dropConnection (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack()
  request.raw.socket.destroy()
  return reply
}

export function buildSimulator (options: SimulatorOptions = {}) {
  const authHeader = (options.authHeader ?? 'authorization').toLowerCase()
  const authScheme = options.authScheme ?? 'Bearer'
  const acceptedCredentials = new Set((options.apiKeys ?? defaultApiKeys).map((key) => authScheme === '' ? key : `${authScheme} ${key}`))
  assert(acceptedCredentials.size > 0, 'apiKeys must name at least one key')
  const visibilityOptionIds = options.visibilityOptionIds ?? defaultVisibilityOptionIds
  const pattern = options.missingVideoPattern ?? defaultMissingVideoPattern
  // Without g/y flags, test() keeps no state between calls.
  const missingVideoPattern = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
  const sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }))
  const state = createSimulatorState(options)
  // Aborted on close, so latency and delays end with the server instead of holding it open.
  const closing = new AbortController()
  // Requests whose scripted reset comes after the cut.
  const resetAfterCut = new WeakSet<FastifyRequest>()

  const app = Fastify({
    logger: options.logger ?? false,
    // Hung requests never end on their own; close must not wait for them.
    forceCloseConnections: true,
    // The platform does not coerce: "600000" is not a number, and null must not become 0.
    ajv: { customOptions: { coerceTypes: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('simulator', state)
  app.addHook('preClose', async () => { closing.abort() })

  /** True when the wait ran out; false when the app is closing (the connection is then dropped). */
  async function pause (ms: number): Promise<boolean> {
    try {
      await sleep(ms, closing.signal)
    } catch {
      return false
    }
    return !closing.signal.aborted
  }

  async function answerWithFault (fault: ScriptedFault, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    switch (fault.kind) {
      case '503':
        if (fault.retryAfter !== undefined) {
          reply.header('retry-after', fault.retryAfter instanceof Date ? fault.retryAfter.toUTCString() : String(fault.retryAfter))
        }
        return reply.code(503).type('text/html; charset=utf-8').send(backendFetchFailedPage)
      case '500':
        return reply.code(500).send(failureEnvelope(500, ['Internal Server Error']))
      case 'reset':
        if (fault.afterCut === true) {
          resetAfterCut.add(request)
          return undefined
        }
        return dropConnection(request, reply)
      case 'delay':
        return await pause(fault.ms) ? undefined : dropConnection(request, reply)
      case 'hang':
        // No answer at all; forceCloseConnections ends the socket when the app closes.
        reply.hijack()
        return reply
      case 'status':
        if (fault.headers !== undefined) reply.headers(fault.headers)
        return reply.code(fault.status).send(fault.body)
    }
  }

  // Bad JSON, schema failures and anything thrown answer in the platform's envelope.
  app.setErrorHandler<FastifyError>((error, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    return reply.code(status).send(failureEnvelope(status, [status === 500 ? 'Internal Server Error' : error.message]))
  })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(failureEnvelope(404, ['Result Not Found'])))

  app.post('/api/v2/:projectId/live-videos/:id/stop-and-cut', {
    schema: { params: StopAndCutParamsSchema, body: StopAndCutBodySchema },
    // Before validation: faults come from the platform's edge, whatever the body or key.
    preValidation: async (request, reply) => {
      state.record({ method: request.method, path: request.url, headers: request.headers, body: request.body })
      const latencyMs = state.latencyMs()
      if (latencyMs > 0 && !await pause(latencyMs)) return dropConnection(request, reply)
      const fault = state.nextFault()
      if (fault !== undefined) {
        const answered = await answerWithFault(fault, request, reply)
        if (answered !== undefined) return answered
      }
      const credentials = request.headers[authHeader]
      if (typeof credentials !== 'string' || !acceptedCredentials.has(credentials)) {
        return reply.code(401).send(failureEnvelope(401, ['Unauthorized'], ['A valid API key is required']))
      }
      return undefined
    }
  }, async (request, reply) => {
    const { projectId, id } = request.params
    const problem = bodyProblem(request.body, visibilityOptionIds)
    if (problem !== undefined) return reply.code(400).send(failureEnvelope(400, [problem]))
    if (missingVideoPattern.test(id)) return reply.code(404).send(failureEnvelope(404, ['Live video not found']))
    if (!state.stop(projectId, id)) return reply.code(400).send(failureEnvelope(400, ['Live video is not live']))
    if (resetAfterCut.has(request)) return dropConnection(request, reply)
    return { success: true, errors: [], messages: [], result: { videoPublicId: randomUUID() }, resultInfo: null, statusCode: 200 }
  })

  app.get('/__simulator/calls', async () => state.calls())
  app.get('/__simulator/faults', async () => state.faults())
  app.post('/__simulator/faults', { schema: { body: FaultsUpdateSchema } }, async (request, reply) => {
    try {
      state.setFaults(request.body)
    } catch (error) {
      // setFaults refuses shares out of range, or adding up to more than 1, with a RangeError.
      if (error instanceof RangeError) return reply.code(400).send(failureEnvelope(400, [error.message]))
      throw error
    }
    return state.faults()
  })
  app.post('/__simulator/reset', async (_request, reply) => {
    state.reset()
    return reply.code(204).send()
  })

  return app as typeof app & { simulator: SimulatorState }
}

export type SimulatorApp = ReturnType<typeof buildSimulator>
