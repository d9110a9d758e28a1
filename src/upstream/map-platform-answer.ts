import type { SecretScrubber } from '../security/secret-scrubber.ts'
import type { StopAndCutResult } from './stop-and-cut.ts'

/** The response body of one attempt: its text, or null when it could not be read in full. */
export type PlatformBody = string | null

const UNKNOWN_OUTCOME = 'the outcome at the platform is unknown'

/** Which final answers need their body read; the others are drained unread. */
export function needsBody (statusCode: number): boolean {
  return (statusCode >= 200 && statusCode < 300) || statusCode === 400 || statusCode === 404
}

/**
 * What a final platform answer means (503 is not final: the retry loop handles it).
 * Details never carry the key, headers or the platform's body; what the platform said
 * (`upstreamErrors`) is scrubbed here, once, so the answer, its replay record, the audit
 * trail and the logs all get the same clean text: some platforms echo the credentials they got.
 */
export function mapPlatformAnswer (statusCode: number, body: PlatformBody, scrubber: SecretScrubber): StopAndCutResult {
  const result = mapStatus(statusCode, body)
  if (result.type === 'rejected' || result.type === 'not_found') return { ...result, upstreamErrors: scrubber.value(result.upstreamErrors) as unknown[] }
  return result
}

function mapStatus (statusCode: number, body: PlatformBody): StopAndCutResult {
  if (statusCode >= 200 && statusCode < 300) return mapSuccessStatus(statusCode, body)
  if (statusCode === 400) return { type: 'rejected', upstreamErrors: upstreamErrorsOf(parseJson(body)) }
  if (statusCode === 404) return { type: 'not_found', upstreamErrors: upstreamErrorsOf(parseJson(body)) }
  if (statusCode === 401 || statusCode === 403) {
    return { type: 'bad_gateway', detail: `the platform refused our platform key (HTTP ${statusCode}): the service's upstream key configuration needs fixing` }
  }
  return { type: 'bad_gateway', detail: `the platform failed with HTTP ${statusCode}` }
}

function mapSuccessStatus (statusCode: number, body: PlatformBody): StopAndCutResult {
  // A 2xx means the platform took the cut: without its body we cannot say what became of it.
  if (body === null) {
    return { type: 'unknown', detail: `the platform answered HTTP ${statusCode} but its body could not be read: the cut may have happened, ${UNKNOWN_OUTCOME}` }
  }
  const envelope = parseJson(body)
  if (!isRecord(envelope)) {
    return { type: 'bad_gateway', detail: `the platform answered HTTP ${statusCode} with a body that is not its JSON envelope` }
  }
  if (envelope.success === false) return { type: 'rejected', upstreamErrors: upstreamErrorsOf(envelope) }
  const videoPublicId = isRecord(envelope.result) ? envelope.result.videoPublicId : undefined
  if (envelope.success !== true || typeof videoPublicId !== 'string' || videoPublicId === '') {
    return { type: 'bad_gateway', detail: `the platform answered HTTP ${statusCode} without success: true and a result.videoPublicId` }
  }
  return { type: 'succeeded', videoPublicId }
}

/** The platform's `errors` then `messages`, whatever their items are; none when the body is not its envelope. */
function upstreamErrorsOf (envelope: unknown): unknown[] {
  if (!isRecord(envelope)) return []
  const errors = Array.isArray(envelope.errors) ? envelope.errors : []
  const messages = Array.isArray(envelope.messages) ? envelope.messages : []
  return [...errors, ...messages]
}

function parseJson (body: PlatformBody): unknown {
  if (body === null) return undefined
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
