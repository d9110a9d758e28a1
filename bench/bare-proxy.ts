/**
 * What a user would pick instead of livecut-bff: a minimal Fastify reverse proxy
 * (@fastify/reply-from) that maps the cut route onto the platform's stop-and-cut endpoint and
 * swaps the caller's Authorization for the platform key. No token verification, no
 * validation, no audit, no rate limits: the body is passed through as bytes.
 *
 * As a benchmark child: BENCH_UPSTREAM_URL, BENCH_PLATFORM_KEY.
 */
import Fastify from 'fastify'
import replyFrom from '@fastify/reply-from'
import { serveParent } from './processes.ts'

export async function buildBareProxy (upstreamUrl: string, platformKey: string) {
  const app = Fastify({ logger: false })
  // Pass the body through untouched (the request stream itself) instead of parsing and re-serialising it.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })
  await app.register(replyFrom, { base: upstreamUrl })
  const authorization = `Bearer ${platformKey}`
  app.post<{ Params: { projectId: string, videoId: string } }>('/v1/projects/:projectId/live-videos/:videoId/cut', (request, reply) => {
    const { projectId, videoId } = request.params
    return reply.from(`/api/v2/${encodeURIComponent(projectId)}/live-videos/${encodeURIComponent(videoId)}/stop-and-cut`, {
      rewriteRequestHeaders: (_request, headers) => ({ ...headers, authorization })
    })
  })
  return app
}

if (import.meta.main) {
  const upstreamUrl = process.env.BENCH_UPSTREAM_URL
  const platformKey = process.env.BENCH_PLATFORM_KEY
  if (upstreamUrl === undefined || platformKey === undefined) throw new Error('BENCH_UPSTREAM_URL and BENCH_PLATFORM_KEY are required')
  const app = await buildBareProxy(upstreamUrl, platformKey)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  serveParent(url, async () => { await app.close() })
}
