import t from 'tap'
import { unexpectedConsoleErrors } from '../helpers/browser.ts'
import { applyFilter, expectVideos, signIn, startConsoleTrail } from '../helpers/console-trail.ts'
import { hsToken } from '../helpers/tokens.ts'

// Resolving unknown outcomes from the console (POST /v1/audit/events/{id}/resolution), in
// headless Chromium against the real service: the queue, the form, the entry read back.

const { service, entryOf, openConsole, troubles } = await startConsoleTrail(t)
const resolver = hsToken({ sub: 'auditor-r', scope: 'audit:read audit:resolve', projects: ['proj-1'] })

t.test('an auditor with audit:resolve works through the queue: the resolution made in the form appears on the entry', async (t) => {
  const unknown = await entryOf('live-5')
  const page = await openConsole()
  await signIn(page, resolver)
  await page.locator('#queue-list li').first().waitFor()
  t.same(await page.locator('#queue-list button').evaluateAll((buttons: Array<{ dataset: { entryId?: string } }>) => buttons.map((button) => button.dataset.entryId)),
    [unknown.id], 'the queue holds the one unresolved unknown outcome')
  t.match(await page.locator('#queue-summary').textContent(), /^1 unknown outcome to check on the platform/)

  await page.getByRole('button', { name: /Review and resolve/ }).click()
  await page.locator('#resolve-form').waitFor()
  await page.getByLabel('The cut succeeded').check()
  await page.getByLabel(/^Note/).fill('Checked the platform: the VOD exists, created at the time of the request.')
  await page.getByLabel('VOD public id (optional)').fill('vod-from-platform-42')
  await page.getByRole('button', { name: 'Record the resolution' }).click()
  await page.locator('#entry-fields dd[data-field="resolution.outcome"]').waitFor()

  const field = async (path: string): Promise<string | null> => await page.locator(`#entry-fields dd[data-field="${path}"]`).first().textContent()
  t.equal(await field('resolution.outcome'), 'succeeded', 'the resolution is on the entry')
  t.equal(await field('resolution.note'), 'Checked the platform: the VOD exists, created at the time of the request.')
  t.equal(await field('resolution.videoPublicId'), 'vod-from-platform-42')
  t.equal(await field('resolution.by'), 'auditor-r', 'by the token\'s subject')
  t.equal(await field('outcome'), 'unknown', 'the entry\'s own outcome stays unknown')
  t.ok(await page.locator('#resolve-form').isHidden(), 'no form for a resolved entry')
  t.ok(await page.locator('#queue-view').isHidden(), 'the queue is not shown over the entry')
  const stored = await entryOf('live-5')
  t.match(stored.resolution, { outcome: 'succeeded', note: /^Checked the platform/, videoPublicId: 'vod-from-platform-42', by: 'auditor-r', time: String },
    'the service holds the same resolution')
  await page.screenshot({ path: new URL('../artifacts/console-resolution.png', import.meta.url).pathname, fullPage: true })

  await page.getByRole('button', { name: 'Back to the list' }).click()
  await page.locator('#queue-summary').filter({ hasText: 'No unknown outcome is waiting' }).waitFor()
  t.pass('the queue is empty once resolved')
  await applyFilter(page, { Outcome: 'unknown', Resolution: 'Resolved' })
  await expectVideos(t, page, ['live-5'], 'resolved=true finds it')
  t.match(await page.locator('#entries td[data-label="Outcome"]').first().textContent(), /^unknown resolved: succeeded$/, 'the list says it was resolved')
  await applyFilter(page, { Outcome: 'unknown', Resolution: 'Not resolved' })
  await expectVideos(t, page, [], 'resolved=false no longer does')
})

t.test('a resolution refused by the service shows the problem, and changes nothing', async (t) => {
  const other = await entryOf('live-4')
  // An entry made unknown for this test: the platform hangs past the timeout.
  service.simulator.app.simulator.script([{ kind: 'hang' }])
  const cut = await service.app.inject({ method: 'POST', url: '/v1/projects/proj-1/live-videos/live-12/cut', headers: { authorization: `Bearer ${hsToken()}` } })
  t.equal(cut.statusCode, 504)
  const unknown = await entryOf('live-12')

  const page = await openConsole()
  await signIn(page, resolver)
  await page.locator(`#queue-list button[data-entry-id="${unknown.id}"]`).click()
  await page.locator('#resolve-form').waitFor()
  // Someone else resolves it meanwhile.
  const first = await service.app.inject({
    method: 'POST',
    url: `/v1/audit/events/${unknown.id}/resolution`,
    headers: { authorization: `Bearer ${resolver}` },
    payload: { outcome: 'failed', note: 'Resolved from another tab.' }
  })
  t.equal(first.statusCode, 201)
  await page.getByLabel('The cut failed (nothing was cut)').check()
  await page.getByLabel(/^Note/).fill('Nothing on the platform.')
  await page.getByRole('button', { name: 'Record the resolution' }).click()
  await page.locator('#problem').waitFor()
  t.equal(await page.locator('#problem-title').textContent(), 'This audit entry is already resolved', 'the problem\'s title')
  t.match((await entryOf('live-12')).resolution, { outcome: 'failed', note: 'Resolved from another tab.' }, 'the first resolution stands')
  t.equal(other.outcome, 'failed', 'an entry whose outcome is known gets no form')
  await page.getByRole('button', { name: 'Back to the list' }).click()
  await page.locator(`#entries button[data-entry-id="${other.id}"]`).click()
  await page.locator('#entry-view').waitFor()
  t.ok(await page.locator('#resolve-form').isHidden())
})

t.test('a token without audit:resolve sees no queue and no form', async (t) => {
  const page = await openConsole()
  await signIn(page, hsToken({ sub: 'reader', scope: 'audit:read', projects: ['proj-1'] }))
  await page.locator('#verify-result.verify-ok').waitFor()
  t.ok(await page.locator('#queue-view').isHidden(), 'no queue')
  t.ok(await page.getByLabel('Resolution', { exact: true }).isVisible(), 'the resolved filter is there for reading')
})

t.test('no console error, no uncaught exception, no CSP violation', async (t) => {
  t.same(troubles.flatMap((trouble) => [...trouble.cspViolations, ...trouble.pageErrors, ...unexpectedConsoleErrors(trouble)]), [])
  t.same(troubles.flatMap((trouble) => trouble.failedResponses), ['409 POST /v1/audit/events/' + ((await entryOf('live-12')).id) + '/resolution'],
    'the one refusal above')
})
