// A platform that echoes secrets in its error envelope (some quote the Authorization they got):
// nothing it says reaches the client, the idempotent replay, the audit trail or a log line
// before every configured platform key, every bearer token and anything shaped like a JWT is
// scrubbed out of it — while the rest of what it said still comes through.
import t from 'tap'
import { startScriptedPlatform, type ScriptStep } from '../helpers/scripted-platform.ts'
import { PLATFORM_KEY, startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { socketCutRequest, type Answer } from '../helpers/cut-request.ts'

const PROJECT_TWO_KEY = 'key-of-project-two-7c41e9'
const OPAQUE_TOKEN = 'opaque-session-9f8e7d6c5b4a'
const callerToken = hsToken({ sub: 'echo-caller' })
// A JWT the service never saw: scrubbed for its shape alone.
const foreignJwt = hsToken({ sub: 'someone-else' }, 'a-secret-the-service-does-not-know!!')
const SECRETS = [PLATFORM_KEY, PROJECT_TWO_KEY, OPAQUE_TOKEN, callerToken, foreignJwt]

/** An envelope that quotes every secret, as strings, nested values and an object key. */
function echoingEnvelope (statusCode: number): object {
  return {
    success: false,
    statusCode,
    errors: [
      { code: 'INVALID_RANGE', message: `range rejected for request with Authorization: Bearer ${PLATFORM_KEY}` },
      { code: 'AUTH_ECHO', detail: { received: { authorization: `Bearer ${callerToken}`, 'x-api-key': PROJECT_TWO_KEY } } },
      `session bearer ${OPAQUE_TOKEN} was ignored`
    ],
    messages: [`token ${foreignJwt} is not ours`, { [PLATFORM_KEY]: 'key as a field name' }],
    result: null
  }
}

t.test('secrets echoed by the platform are scrubbed from answers, replays, the audit trail and logs', async (t) => {
  const script: ScriptStep[] = [
    { status: 400, body: echoingEnvelope(400) },
    { status: 404, body: echoingEnvelope(404) },
    { status: 200, body: echoingEnvelope(200) }
  ]
  const platform = await startScriptedPlatform(script)
  t.teardown(() => platform.close())
  const service = await startService(t, { env: { UPSTREAM_BASE_URL: platform.url, UPSTREAM_API_KEYS: JSON.stringify({ 'proj-2': PROJECT_TWO_KEY }) } })
  const origin = await service.app.listen({ host: '127.0.0.1', port: 0 })

  const send = async (video: string, requestId: string, key: string): Promise<Answer> =>
    await socketCutRequest(origin, { video, requestId, key, token: callerToken })
  const answers: Array<[string, Answer, number]> = [
    ['the 422 for a platform 400', await send('echo-400', 'echo-1', 'key-400'), 422],
    ['the 404', await send('echo-404', 'echo-2', 'key-404'), 404],
    ['the 422 for success: false', await send('echo-200', 'echo-3', 'key-200'), 422]
  ]
  const replays: Array<[string, Answer, number]> = [
    ['the replayed 422', await send('echo-400', 'echo-4', 'key-400'), 422],
    ['the replayed 404', await send('echo-404', 'echo-5', 'key-404'), 404]
  ]
  t.equal(platform.received.length, 3, 'the replays did not call the platform')
  t.equal(platform.received[0]?.headers.authorization, `Bearer ${PLATFORM_KEY}`, 'the platform did get our key (and echoed it)')

  for (const [what, answer, status] of [...answers, ...replays]) {
    t.equal(answer.status, status, `${what}: ${status}`)
    const text = JSON.stringify(answer.body)
    for (const secret of SECRETS) t.notOk(text.includes(secret), `${what}: no ${secret.slice(0, 12)}…`)
    const upstreamErrors = answer.body.upstreamErrors as unknown[]
    t.equal(upstreamErrors.length, 5, `${what}: every item the platform sent is passed on`)
    t.match(upstreamErrors[0], { code: 'INVALID_RANGE', message: /^range rejected for request with Authorization: / }, `${what}: what the platform said around the secret is kept`)
    t.match(upstreamErrors[1], { code: 'AUTH_ECHO', detail: { received: { authorization: String, 'x-api-key': String } } }, `${what}: nested fields keep their place`)
    t.match(upstreamErrors[3], /^token .+ is not ours$/)
  }
  for (const [what, replay] of replays) t.equal(replay.headers['idempotent-replayed'], 'true', `${what} is a replay`)
  t.same(replays[0]?.[1].body.upstreamErrors, answers[0]?.[1].body.upstreamErrors, 'the replay is the first answer')

  const { items } = await service.app.auditStore.listEntries({ projectIds: '*' }, 50, null)
  t.equal(items.length, 5, 'one entry per request')
  const trail = JSON.stringify(items)
  const logs = service.logs.text
  t.ok(logs.includes('echo-1'), 'the log has the requests')
  for (const secret of SECRETS) {
    t.notOk(trail.includes(secret), `the audit trail has no ${secret.slice(0, 12)}…`)
    t.notOk(logs.includes(secret), `no log line has ${secret.slice(0, 12)}…`)
  }
})
