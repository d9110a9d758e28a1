import t from 'tap'
import { requestFingerprint } from '../../src/concurrency/fingerprint.ts'

const path = '/v1/projects/p1/live-videos/v1/cut'

t.test('the same request fingerprints alike, however its JSON is spelled', async (t) => {
  const a = requestFingerprint({ method: 'POST', path, body: { startMs: 1, endMs: 2, visibility: 'public' } })
  t.match(a, /^[0-9a-f]{64}$/, 'a SHA-256 hex digest')
  t.equal(requestFingerprint({ method: 'post', path, body: { visibility: 'public', endMs: 2, startMs: 1 } }), a, 'key order and method case do not matter')
  t.equal(requestFingerprint({ method: 'POST', path, body: JSON.parse('{ "endMs" : 2.0, "startMs":1, "visibility":"public" }') }), a, 'whitespace and number spelling do not matter')
  t.equal(requestFingerprint({ method: 'POST', path, body: undefined }), requestFingerprint({ method: 'POST', path, body: {} }), 'an absent body is {}')
})

t.test('any difference in method, path or body changes it', async (t) => {
  const base = { method: 'POST', path, body: { startMs: 1, endMs: 2 } }
  const a = requestFingerprint(base)
  t.not(requestFingerprint({ ...base, method: 'PUT' }), a, 'method')
  t.not(requestFingerprint({ ...base, path: '/v1/projects/p1/live-videos/v2/cut' }), a, 'path')
  t.not(requestFingerprint({ ...base, body: { startMs: 1, endMs: 3 } }), a, 'a value')
  t.not(requestFingerprint({ ...base, body: { startMs: 1, endMs: 2, visibility: 'private' } }), a, 'an extra field')
  t.not(requestFingerprint({ ...base, body: { startMs: '1', endMs: 2 } }), a, 'a type')
  t.not(requestFingerprint({ ...base, body: null }), requestFingerprint({ ...base, body: {} }), 'null is not {}')
  // no ambiguity between the parts
  t.not(requestFingerprint({ method: 'POST', path: '/a', body: '/b' }), requestFingerprint({ method: 'POST', path: '/a/b', body: '' }))
})

t.test('a body that is not JSON is refused', async (t) => {
  t.throws(() => requestFingerprint({ method: 'POST', path, body: { n: 10n } }))
})
