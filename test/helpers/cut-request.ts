// The one way tests send a cut request (through app.inject or over a real socket), and a GET
// over a real socket.
import { request, type Dispatcher } from 'undici'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.ts'
import type { ServiceUnderTest } from './service.ts'
import { hsToken } from './tokens.ts'

/** One cut request: `POST /v1/projects/{project}/live-videos/{video}/cut`. */
export interface CutOptions {
  video: string
  /** Default `proj-1`. */
  project?: string
  /**
   * The bearer token; default a fresh `hsToken` for `sub` (the standard claims' subject when
   * `sub` is not given); null: no Authorization header.
   */
  token?: string | null
  sub?: string
  /** A raw Authorization header, sent instead of the bearer token. */
  authorization?: string
  /** Sent as Idempotency-Key when given. */
  key?: string
  /** Sent as JSON; default `{}`. */
  body?: unknown
  /** The raw body, sent instead of `body`; null: no body and no Content-Type. */
  payload?: string | null
  /** Default `application/json` (when there is a body). */
  contentType?: string
  /** Sent as x-request-id when given. */
  requestId?: string
  /** More headers, sent after the standard ones. */
  headers?: Record<string, string>
}

/** Path, headers and body of a cut request. */
export function cutRequestParts (options: CutOptions): { path: string, headers: Record<string, string>, payload: string | undefined } {
  const payload = options.payload === undefined ? JSON.stringify(options.body ?? {}) : options.payload ?? undefined
  const token = options.token === undefined ? hsToken(options.sub === undefined ? {} : { sub: options.sub }) : options.token
  const authorization = options.authorization ?? (token === null ? undefined : `Bearer ${token}`)
  return {
    path: `/v1/projects/${options.project ?? 'proj-1'}/live-videos/${options.video}/cut`,
    headers: {
      ...(authorization !== undefined && { authorization }),
      ...(payload !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
      ...(options.requestId !== undefined && { 'x-request-id': options.requestId }),
      ...(options.key !== undefined && { 'idempotency-key': options.key }),
      ...options.headers
    },
    payload
  }
}

/** A cut through app.inject (the peer address is 127.0.0.1 unless `remoteAddress` is given). */
export async function injectCut (app: App, options: CutOptions & { remoteAddress?: string }): Promise<LightMyRequestResponse> {
  const { path, headers, payload } = cutRequestParts(options)
  return await app.inject({
    method: 'POST',
    url: path,
    headers,
    ...(payload !== undefined && { payload }),
    ...(options.remoteAddress !== undefined && { remoteAddress: options.remoteAddress })
  })
}

/** One answer, flattened: header names lower-case, values strings; the request id the test sent. */
export interface Answer { status: number, headers: Record<string, string>, body: Record<string, unknown>, requestId: string }

/** Header values as strings under lower-case names. */
export function flatHeaders (headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]))
}

/** A cut through app.inject, its answer flattened. */
export async function cutRequest (service: ServiceUnderTest, options: CutOptions & { requestId: string, remoteAddress?: string }): Promise<Answer> {
  const response = await injectCut(service.app, options)
  return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.json(), requestId: options.requestId }
}

/** A request over a real socket, its answer flattened (the body parsed as JSON). */
async function socketAnswer (url: string, options: Parameters<typeof request>[1]): Promise<Omit<Answer, 'requestId'>> {
  const response = await request(url, options)
  return { status: response.statusCode, headers: flatHeaders(response.headers), body: await response.body.json() as Record<string, unknown> }
}

/** A cut over a real socket to `origin` (a listening service), through `dispatcher` when given. */
export async function socketCutRequest (origin: string, options: CutOptions & { requestId: string, dispatcher?: Dispatcher, signal?: AbortSignal }): Promise<Answer> {
  const { path, headers, payload } = cutRequestParts(options)
  const answer = await socketAnswer(`${origin}${path}`, {
    method: 'POST',
    headers,
    body: payload,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.signal !== undefined && { signal: options.signal })
  })
  return { ...answer, requestId: options.requestId }
}

/** A GET of `path` over a real socket to `origin`, with `token` as the bearer token when given. */
export async function socketGet (origin: string, path: string, options: { token?: string, signal?: AbortSignal } = {}): Promise<Omit<Answer, 'requestId'>> {
  return await socketAnswer(`${origin}${path}`, {
    headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    ...(options.signal !== undefined && { signal: options.signal })
  })
}

/** What `cutter` returns: one cut per call, the request id chosen for it. */
export type Cut = (options?: Partial<Omit<CutOptions, 'requestId'>>) => Promise<Answer>

/**
 * Cuts through app.inject with numbered request ids, `${label}-1`, `${label}-2`, …; `defaults`
 * apply to every request (a `token` there wins over a per-call `sub`: pass a `token` to cut as
 * another caller). Without a `video`, each request cuts a video of its own named after its request id.
 */
export function cutter (service: ServiceUnderTest, label: string, defaults: Partial<Omit<CutOptions, 'requestId'>> = {}): Cut {
  let n = 0
  return async (options = {}) => {
    const requestId = `${label}-${++n}`
    return await cutRequest(service, { video: requestId, ...defaults, ...options, requestId })
  }
}
