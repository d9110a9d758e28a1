import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

/**
 * The Content-Security-Policy of every response: only this origin's own files, no inline
 * script or style, never framed. Helmet's defaults are not used: they allow inline styles.
 * (Swagger UI at /docs sets a policy of its own, see the OpenAPI plugin.)
 */
export const STRICT_CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'none'"],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'"],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"]
}

/** Helmet's security headers on every response of the service, registered before any route. */
async function securityHeadersPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: STRICT_CSP_DIRECTIVES },
    frameguard: { action: 'deny' }
  })
}

export default fp(securityHeadersPlugin, { name: 'security-headers', fastify: '5.x' })
