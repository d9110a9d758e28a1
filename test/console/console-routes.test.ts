import t from 'tap'
import { startService } from '../helpers/service.ts'

// The console's static files and the security headers, over inject(); what the page does is in
// console-browser.test.ts.

/** A CSP header as directive → sources. */
function directives (header: unknown): Map<string, string[]> {
  return new Map(String(header).split(';').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, ...sources] = part.split(/\s+/)
    return [name as string, sources]
  }))
}

const STRICT = new Map([
  ['default-src', ["'self'"]],
  ['base-uri', ["'none'"]],
  ['connect-src', ["'self'"]],
  ['form-action', ["'self'"]],
  ['frame-ancestors', ["'none'"]],
  ['img-src', ["'self'"]],
  ['object-src', ["'none'"]],
  ['script-src', ["'self'"]],
  ['script-src-attr', ["'none'"]],
  ['style-src', ["'self'"]]
])

t.test('/console/ serves the page, its script and stylesheet, under the strict CSP', async (t) => {
  const { app } = await startService(t)
  const page = await app.inject({ url: '/console/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.same(directives(page.headers['content-security-policy']), STRICT, 'default-src self, no inline script or style, never framed')
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.equal(page.headers['referrer-policy'], 'no-referrer')
  t.notMatch(page.body, /<script(?![^>]*\bsrc=)/, 'no inline script in the page')
  t.notMatch(page.body, /\sstyle=|<style/, 'no inline style in the page')
  t.notMatch(page.body, /\son[a-z]+=/, 'no inline event handler')

  for (const [file, type] of [['console.js', /^(text|application)\/javascript/], ['console.css', /^text\/css/], ['api.js', /^(text|application)\/javascript/]] as const) {
    const response = await app.inject({ url: `/console/${file}` })
    t.equal(response.statusCode, 200, `${file} is served`)
    t.match(response.headers['content-type'], type, `${file} has its type (module scripts need it)`)
  }
  const bare = await app.inject({ url: '/console' })
  t.equal(bare.statusCode, 301, '/console redirects')
  t.equal(bare.headers.location, '/console/', 'to /console/, where the page\'s relative URLs resolve')
  const missing = await app.inject({ url: '/console/nothing-here.js' })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], /^application\/problem\+json/, 'an unknown file is a problem+json 404')
  t.equal((await app.inject({ url: '/console/../package.json' })).statusCode, 404, 'nothing outside the console\'s folder')
})

t.test('the API\'s responses carry the strict policy too', async (t) => {
  const { app } = await startService(t)
  for (const url of ['/healthz', '/v1/audit/events', '/openapi.json']) {
    const response = await app.inject({ url })
    t.same(directives(response.headers['content-security-policy']), STRICT, url)
  }
})

t.test('Swagger UI at /docs has its own policy: what it needs, still no inline script and never framed', async (t) => {
  const { app } = await startService(t)
  for (const url of ['/docs', '/docs/static/swagger-initializer.js']) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, 200, url)
    const csp = directives(response.headers['content-security-policy'])
    t.same(csp.get('script-src'), ["'self'"], `${url}: scripts from the service only`)
    t.same(csp.get('frame-ancestors'), ["'none'"], `${url}: never framed`)
    t.same(csp.get('img-src'), ["'self'", 'data:'], `${url}: its logo is a data: image`)
    t.same(csp.get('style-src'), ["'self'", "'unsafe-inline'"], `${url}: the styles it sets inline`)
  }
  t.notMatch((await app.inject({ url: '/docs/static/index.html' })).body, /<script>(?!\s*<\/script>)/, 'the UI has no inline script')
})

t.test('CONSOLE_ENABLED=false: no console, the API unchanged', async (t) => {
  const { app } = await startService(t, { env: { CONSOLE_ENABLED: 'false' } })
  for (const url of ['/console/', '/console', '/console/console.js']) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, 404, url)
    t.match(response.headers['content-type'], /^application\/problem\+json/)
  }
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
})

t.test('the console is absent from the OpenAPI document', async (t) => {
  const { app } = await startService(t)
  const paths = Object.keys((await app.inject({ url: '/openapi.json' })).json<{ paths: object }>().paths)
  t.ok(paths.length > 0)
  t.same(paths.filter((path) => path.includes('console')), [])
})
