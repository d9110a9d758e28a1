import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/** Where the page's files are: plain HTML, CSS and ES modules, served as they are (no build step). */
const CONSOLE_ROOT = fileURLToPath(new URL('./public/', import.meta.url))

/**
 * The audit review console at /console/: static files only. The page calls the review API
 * with the auditor's token itself, so nothing here needs authentication; hidden from the
 * OpenAPI document.
 */
async function consolePlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: '/console',
    // /console answers with a redirect to /console/, so the page's relative URLs resolve.
    redirect: true,
    dotfiles: 'ignore',
    schemaHide: true
  })
}

export default consolePlugin
