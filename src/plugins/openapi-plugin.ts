import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * Swagger UI's own Content-Security-Policy, in place of the service's strict one: its logo and
 * stylesheet icons are data: images, and its bundle adds a <style> element (refused under
 * style-src 'self', seen in Chromium). Still no inline script, and never framed.
 */
export const DOCS_CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"]
}

/**
 * The OpenAPI 3.1 document, generated from the route schemas: served at /openapi.json,
 * committed as openapi.yaml (`npm run openapi`), and Swagger UI at /docs when enabled.
 * Registered before the routes, so it sees every one of them.
 */
async function openApiPlugin (fastify: FastifyInstance, { docsEnabled }: { docsEnabled: boolean }): Promise<void> {
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'livecut-bff',
        version,
        description: 'Stop a live video on the video platform and cut it into a VOD, audited. Errors are RFC 9457 problem+json.',
        license: { name: 'Proprietary' }
      },
      servers: [{ url: 'http://127.0.0.1:3000', description: 'npm run demo' }],
      tags: [
        { name: 'cut', description: 'The stop-and-cut route for frontends' },
        { name: 'audit', description: 'The review API for auditors' },
        { name: 'operations', description: 'Probes and metrics' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token of the identity provider; scopes live:cut or audit:read' }
        }
      }
    },
    // Shared schemas keep their $id as their component name (Problem, AuditEntry).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  if (docsEnabled) await fastify.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP_DIRECTIVES })

  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}

export default fp(openApiPlugin, { name: 'openapi', fastify: '5.x' })
