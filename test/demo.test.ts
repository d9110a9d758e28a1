import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { tempDir } from './helpers/temp-dir.ts'

interface Demo {
  output: string
  /** The served public key (GET /v1/audit/public-key, with the token the demo printed). */
  publicJwk: { x: string, kid: string }
}

/** `npm run demo` as a process, on any free port; resolves once it has printed all it prints, then asks it for its public key. */
async function runDemo (t: Test, env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, ['src/demo.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { PATH: process.env.PATH, PORT: '0', AUDIT_STORE_URL: `sqlite:${join(tempDir(t), 'audit.db')}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += String(chunk) })
  let output = ''
  for await (const chunk of child.stdout) {
    output += String(chunk)
    if (output.includes('Ctrl-C stops the demo.')) break
  }
  child.stdout.resume()
  const base = /service on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
  const token = /export TOKEN='([^']+)'/.exec(output)?.[1]
  if (base === undefined || token === undefined) throw new Error(`the demo did not start:\n${output}\n${stderr}`)
  const response = await request(`${base}/v1/audit/public-key`, { headers: { authorization: `Bearer ${token}` } })
  return { output, publicJwk: await response.body.json() as Demo['publicJwk'] }
}

t.test('the demo, without AUDIT_SIGNING_KEY, signs with a key generated for the run and says so', async (t) => {
  const { output, publicJwk } = await runDemo(t)
  t.match(output, `signed with an Ed25519 key generated for this run (keyId ${publicJwk.kid})`)
  t.match(output, 'and is lost when the demo stops')
})

t.test('the demo, with AUDIT_SIGNING_KEY, signs with that key and names it', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const { output, publicJwk } = await runDemo(t, { AUDIT_SIGNING_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string })
  t.equal(publicJwk.x, createPublicKey(privateKey).export({ format: 'jwk' }).x, 'the key given is the key served')
  t.match(output, `signed with AUDIT_SIGNING_KEY (keyId ${publicJwk.kid})`)
  t.notMatch(output, 'generated')
  t.notMatch(output, 'lost when the demo stops')
})
