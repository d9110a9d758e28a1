import { randomBytes } from 'node:crypto'
import closeWithGrace from 'close-with-grace'
import { createLivecutClient } from '@livecut/client'
import { buildApp } from './app.ts'
import { DEV_UPSTREAM_API_KEY, loadConfig } from './config/load-config.ts'
import { startSimulator } from './simulator/server.ts'

/**
 * `npm run demo`: the service against the built-in platform simulator, with a generated
 * signing secret (and audit signing key), printing a token and a curl command to paste. Nothing to set up.
 */
const ISSUER = 'livecut-demo'
const AUDIENCE = 'livecut-bff'
const PROJECT = 'demo-project'

const simulator = await startSimulator({ apiKeys: [DEV_UPSTREAM_API_KEY] })
const { config } = loadConfig({
  ...process.env,
  NODE_ENV: 'development',
  UPSTREAM_BASE_URL: simulator.url,
  UPSTREAM_API_KEY: DEV_UPSTREAM_API_KEY,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn'
})
const app = await buildApp(config)
closeWithGrace({ delay: 10_000 }, async () => {
  await app.close()
  await simulator.close()
})
// The address it listens on, so PORT=0 (any free port) prints a usable one too.
const base = await app.listen({ host: '127.0.0.1', port: config.port })

const token = app.jwt.sign(
  { sub: 'demo-user', azp: 'demo-console', scope: 'live:cut audit:read audit:resolve', projects: [PROJECT], iss: ISSUER, aud: AUDIENCE },
  { expiresIn: '8h' }
)
const generatedKey = config.auditCheckpoints.signingKeyGenerated
// One cut as a frontend makes it, through the typed client (clients/typescript).
const livecut = createLivecutClient({ baseUrl: base, token })
const firstCut = await livecut.stopAndCut(PROJECT, 'live-0', { visibility: 'public' })
console.log(`
livecut-bff demo: service on ${base}, platform simulator on ${simulator.url}
audit trail: ${config.auditStoreUrl}
audit checkpoints: signed with ${generatedKey ? 'an Ed25519 key generated for this run' : 'AUDIT_SIGNING_KEY'} (keyId ${app.auditCheckpoints.signer.keyId});
  its public key is at ${base}/v1/audit/public-key${generatedKey ? ' and is lost when the demo stops' : ''}

One cut made through @livecut/client (clients/typescript/README.md): live-0 is now the VOD
${firstCut.videoPublicId} (audit entry ${firstCut.auditId}).

A token for project "${PROJECT}" (scopes live:cut audit:read audit:resolve, valid 8 hours):

export TOKEN='${token}'

Stop and cut a live video (each live video can be stopped once: change the id for another cut):

curl -sS -X POST ${base}/v1/projects/${PROJECT}/live-videos/live-1/cut \\
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -d '{"startMs":600000,"endMs":900000,"visibility":"public"}'

Review the audit trail in the browser: open ${base}/console/ and paste the token above
(the text between the quotes).
Or read it back (newest first), check its hash chain, or export it:

curl -sS ${base}/v1/audit/events -H "Authorization: Bearer $TOKEN"
curl -sS ${base}/v1/audit/verify -H "Authorization: Bearer $TOKEN"
curl -sS ${base}/v1/audit/checkpoints -H "Authorization: Bearer $TOKEN"
npm run audit -- export --store ${config.auditStoreUrl} --format csv

Entries whose outcome is unknown, and how to resolve one after checking the platform:

curl -sS '${base}/v1/audit/events?outcome=unknown&resolved=false' -H "Authorization: Bearer $TOKEN"
curl -sS -X POST ${base}/v1/audit/events/<id>/resolution -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -d '{"outcome":"failed","note":"no VOD at the platform"}'

OpenAPI: ${base}/openapi.json, Swagger UI: ${base}/docs, metrics: ${base}/metrics
Ctrl-C stops the demo.
`)
