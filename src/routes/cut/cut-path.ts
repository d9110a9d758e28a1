/** The cut route's URL, as Fastify routes it: the one spelling of the cut path. */
export const CUT_ROUTE = '/v1/projects/:projectId/live-videos/:videoId/cut'

/** The path of one cut request (what its Idempotency-Key fingerprint binds). */
export function cutPath (projectId: string, videoId: string): string {
  return CUT_ROUTE.replace(':projectId', () => projectId).replace(':videoId', () => videoId)
}

const CUT_URL = new RegExp(`^${CUT_ROUTE.replace(/:\w+/g, '[^/]+')}/?(\\?|$)`)

/** Whether a raw request URL (before routing, possibly undecodable) is meant for the cut route. */
export function isCutUrl (url: string): boolean {
  return CUT_URL.test(url)
}
