import { readFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { parse } from 'yaml'
import { openApiYaml } from '../../src/openapi-document.ts'
import { startService } from '../helpers/service.ts'

const root = new URL('../..', import.meta.url).pathname

/** "METHOD /path/{param}" for every route in Fastify's printed route tree (HEAD left out). */
function routesOf (tree: string): string[] {
  const prefixes: string[] = []
  const routes: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line)
    if (match === null) continue
    const depth = (match[1] as string).length / 4
    const path = (prefixes[depth - 1] ?? '') + (match[2] as string)
    prefixes[depth] = path
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) {
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`)
    }
  }
  return routes
}

t.test('the committed openapi.yaml is the generated one (npm run openapi)', async (t) => {
  t.equal(readFileSync(`${root}/openapi.yaml`, 'utf8'), await openApiYaml())
})

t.test('it passes the OpenAPI 3.1 linter (redocly, recommended rules)', async (t) => {
  const { stdout, stderr } = await promisify(execFile)(`${root}/node_modules/.bin/redocly`, ['lint', 'openapi.yaml', '--format=stylish'], { cwd: root })
  t.match(`${stdout}${stderr}`, /valid/)
})

t.test('/openapi.json serves the same document, and every route of the app is in it', async (t) => {
  const { app } = await startService(t)
  const document = (await app.inject({ url: '/openapi.json' })).json()
  t.same(document, parse(readFileSync(`${root}/openapi.yaml`, 'utf8')), 'the same document')
  t.equal(document.openapi, '3.1.0')
  const documented = new Set(Object.entries(document.paths as Record<string, object>).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)))
  const served = routesOf(app.printRoutes({ commonPrefix: false }))
    .filter((route) => !/ \/(docs|openapi\.json|console)/.test(route))
  t.ok(served.length >= 6, `the app has routes: ${served.join(', ')}`)
  for (const route of served) t.ok(documented.has(route), `${route} is documented`)
  const cut = document.paths['/v1/projects/{projectId}/live-videos/{videoId}/cut'].post
  for (const status of ['200', '400', '401', '403', '404', '409', '413', '415', '422', '429', '502', '503', '504']) {
    t.ok(status in cut.responses, `the cut route documents ${status}`)
  }
  t.same(cut.security, [{ bearerAuth: ['live:cut'] }])
  t.ok(Object.keys(cut.requestBody.content['application/json'].examples).length >= 3, 'the body has examples')
})

t.test('Swagger UI at /docs, off in production unless enabled', async (t) => {
  const development = await startService(t)
  t.equal((await development.app.inject({ url: '/docs' })).statusCode, 200)
  const production = await startService(t, { env: { DOCS_ENABLED: 'false' } })
  t.equal((await production.app.inject({ url: '/docs' })).statusCode, 404)
})
