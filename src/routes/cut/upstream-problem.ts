import { ProblemError } from '../../problems/problem-error.ts'
import type { StopAndCutResult } from '../../upstream/stop-and-cut.ts'

/** The answer to a client when the platform did not cut. */
export function problemForUpstream (result: Exclude<StopAndCutResult, { type: 'succeeded' }>): ProblemError {
  switch (result.type) {
    case 'not_found':
      return new ProblemError('upstream_not_found', 'The platform has no live video with this id in this project.', { upstreamErrors: result.upstreamErrors })
    case 'rejected':
      return new ProblemError('upstream_rejected', 'The platform refused the cut; see upstreamErrors.', { upstreamErrors: result.upstreamErrors })
    case 'circuit_open':
      return new ProblemError('circuit_open', 'The platform failed repeatedly, so it was not called; nothing was cut. Try again after Retry-After.', { retryAfterSeconds: result.retryAfterSeconds })
    case 'unavailable':
      return new ProblemError('upstream_unavailable', 'The platform is unavailable and nothing was cut; try again later.', { retryAfterSeconds: result.retryAfterSeconds })
    case 'bad_gateway':
      return new ProblemError('upstream_error', result.detail)
    case 'unknown':
      return new ProblemError('upstream_timeout', `${result.detail} The outcome at the platform is unknown: check the video before trying again.`)
  }
}
