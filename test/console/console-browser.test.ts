import { readFileSync } from 'node:fs'
import t from 'tap'
import type { Page } from 'playwright-core'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { checkpointsOf, getJson, type Jwk } from '../helpers/checkpoints.ts'
import { ARTIFACTS, unexpectedConsoleErrors, watchedPage } from '../helpers/browser.ts'
import { parseCsv } from '../helpers/audit-fixtures.ts'
import { applyFilter, expectVideos, PROJ_1_NEWEST_FIRST, signIn, startConsoleTrail, videosShown } from '../helpers/console-trail.ts'
import { hsToken } from '../helpers/tokens.ts'

// The audit review console in headless Chromium, against the real service whose trail holds
// the cuts of startConsoleTrail. One browser for the file; a fresh context per auditor.

const { service, base, browser, startedAt, entryOf, openConsole, troubles } = await startConsoleTrail(t)
const consoleUrl = `${base}/console/`
const auditorToken = hsToken({ sub: 'auditor-1', scope: 'audit:read', projects: ['proj-1'] })
const otherAuditorToken = hsToken({ sub: 'auditor-2', scope: 'audit:read', projects: ['proj-2'] })

async function screenshot (page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage })
}

t.test('an auditor pastes a token, with the keyboard, and sees the entries the test created, newest first', async (t) => {
  const page = await openConsole()
  await screenshot(page, 'console-token.png')
  await page.getByLabel('Bearer token').focus()
  await page.keyboard.insertText(auditorToken)
  await page.keyboard.press('Tab')
  await page.keyboard.press('Enter')
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'every proj-1 entry on the first page (50 a page)')
  t.match(await page.locator('#session-who').textContent(), /Signed in as auditor-1 \(audit:read\)/)
  const rowOf = (video: string) => page.locator('#entries tbody tr', { has: page.locator(`td[data-label="Video"]:text-is("${video}")`) })
  t.equal(await rowOf('live-3').locator('td[data-label="Outcome"]').textContent(), 'succeeded')
  t.equal(await rowOf('live-4').locator('td[data-label="Outcome"]').textContent(), 'failed')
  t.equal(await rowOf('live-5').locator('td[data-label="Outcome"]').textContent(), 'unknown')
  t.equal(await rowOf('live-6').locator('td[data-label="Outcome"]').textContent(), 'rejected')
  t.equal(await rowOf('live-6').locator('td[data-label="Reason"]').textContent(), 'validation')
  t.equal(await rowOf('live-2').locator('td[data-label="Actor"]').textContent(), 'bob')
  await page.locator('#verify-result.verify-ok').waitFor()
  t.match(await page.locator('#verify-result').textContent(), /^Chain intact: \d+ records checked\.$/, 'the verification result')
  t.equal(await page.evaluate('document.cookie'), '', 'no cookie')
  t.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0, 'nothing in the browser\'s storage')
  t.notOk(await page.locator('#token').inputValue(), 'the token field is emptied once used')
  await screenshot(page, 'console-list.png')
})

t.test('filters by project, video, actor, outcome and time range; pages on with the cursor', async (t) => {
  const page = await openConsole()
  await signIn(page, auditorToken)
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'the whole trail of proj-1')

  await applyFilter(page, { 'Entries per page': '10' })
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST.slice(0, 10), 'first page: ten newest')
  t.match(await page.locator('#list-summary').textContent(), /^Entries 1–10, newest first\.$/)
  await page.getByRole('button', { name: 'Next page' }).click()
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST.slice(10), 'next page: the rest')
  t.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no page after the last')
  await page.getByRole('button', { name: 'Previous page' }).click()
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST.slice(0, 10), 'previous page: the first again')

  await applyFilter(page, { Project: 'proj-1', Video: 'live-3' })
  await expectVideos(t, page, ['live-3'], 'project and video')
  await applyFilter(page, { 'Actor (subject)': 'bob' })
  await expectVideos(t, page, ['live-11', 'live-10', 'live-9', 'live-8', 'live-7', 'live-2'], 'actor')
  await applyFilter(page, { Outcome: 'unknown' })
  await expectVideos(t, page, ['live-5'], 'outcome')
  await applyFilter(page, { 'To (UTC, exclusive)': startedAt.toISOString().slice(0, 19) })
  await expectVideos(t, page, [], 'nothing before the test began')
  t.equal(await page.locator('#list-summary').textContent(), 'No entries match this filter.')
  await applyFilter(page, { 'From (UTC, inclusive)': startedAt.toISOString().slice(0, 19), Outcome: 'failed' })
  await expectVideos(t, page, ['live-4'], 'since the test began, failed')

  await applyFilter(page, { Project: 'proj-9' })
  await page.locator('#problem').waitFor()
  t.equal(await page.locator('#problem-title').textContent(), 'Not allowed', 'a refused filter shows the problem\'s title')
  t.equal(await page.locator('#problem-detail').textContent(), 'The token does not grant access to this project.', 'and its detail')
})

t.test('the entry view shows every field, the platform attempts and statuses; the keyboard goes there and back', async (t) => {
  const page = await openConsole()
  await signIn(page, auditorToken)
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'listed')
  const expected = await entryOf('live-3')
  const details = page.locator(`#entries button[data-entry-id="${expected.id}"]`)
  await details.focus()
  await page.keyboard.press('Enter')
  await page.locator('#entry-view').waitFor()
  t.equal(await page.evaluate('document.activeElement.id'), 'entry-heading', 'focus moves to the entry')
  const field = async (path: string): Promise<string | null> => await page.locator(`#entry-fields dd[data-field="${path}"]`).first().textContent()
  t.equal(await field('upstream.attempts'), '2')
  t.equal(await field('upstream.statuses'), '503, 200', 'every platform status, in order')
  t.equal(await field('outcome'), 'succeeded')
  t.equal(await field('status'), '200')
  t.equal(await field('actor.sub'), 'alice')
  t.equal(await field('videoPublicId'), expected.videoPublicId)
  // Every leaf of the entry the API returns has its place on the page.
  const leaves = (value: unknown, path: string): string[] => value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, path === '' ? key : `${path}.${key}`))
    : [path]
  const shown = new Set(await page.locator('#entry-fields dd[data-field]').evaluateAll((cells: Array<{ dataset: { field?: string } }>) => cells.map((cell) => cell.dataset.field)))
  const missing = leaves(expected, '').filter((path) => !shown.has(path))
  t.same(missing, [], `every field is shown (${shown.size} values)`)
  t.equal(await field('id'), expected.id)
  t.equal(await field('requestId'), expected.requestId)
  t.notOk(await page.locator('#resolve-form').isVisible(), 'no resolve form for an audit:read token')
  await screenshot(page, 'console-entry.png')

  await page.keyboard.press('Escape')
  await page.locator('#list-view').waitFor()
  t.equal(await page.evaluate('document.activeElement.dataset.entryId'), expected.id, 'focus returns to the entry\'s Details button')
  const timeout = await entryOf('live-5')
  await page.locator(`#entries button[data-entry-id="${timeout.id}"]`).click()
  await page.locator('#entry-view').waitFor()
  t.equal(await field('reason'), 'upstream_timeout')
  t.equal(await field('outcome'), 'unknown')
  await page.getByRole('button', { name: 'Back to the list' }).click()
  await page.locator('#list-view').waitFor()
})

t.test('CSV and NDJSON exports of the current filter download', async (t) => {
  const page = await openConsole()
  await signIn(page, auditorToken)
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'listed')
  await applyFilter(page, { Outcome: 'succeeded', 'Entries per page': '10' })
  const succeeded = ['live-11', 'live-10', 'live-9', 'live-8', 'live-7', 'live-3', 'live-2', 'live-1']
  await expectVideos(t, page, succeeded, 'filtered')

  const download = async (button: string) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()])
    return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') }
  }
  const csv = await download('Download CSV')
  t.match(csv.name, /^audit-all-projects-.+\.csv$/)
  const [header, ...rows] = parseCsv(csv.text)
  const column = (name: string): number => (header ?? []).indexOf(name)
  t.ok(column('videoId') >= 0 && column('outcome') >= 0, 'a header line')
  t.same(rows.map((row) => row[column('videoId')]), succeeded, 'every succeeded entry of proj-1, newest first, not only the page shown')
  t.same(new Set(rows.map((row) => row[column('outcome')])), new Set(['succeeded']))

  const ndjson = await download('Download NDJSON')
  t.match(ndjson.name, /^audit-all-projects-.+\.ndjson$/)
  const entries = ndjson.text.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry)
  t.same(entries.map((entry) => entry.videoId), succeeded)
  t.ok(entries.every((entry) => entry.projectId === 'proj-1' && entry.outcome === 'succeeded'))
  t.match(await page.locator('#export-status').textContent(), /^Downloaded audit-all-projects-.+\.ndjson\.$/)
})

t.test('a token without the project sees nothing of it', async (t) => {
  const page = await openConsole()
  await signIn(page, otherAuditorToken)
  await expectVideos(t, page, ['other-1'], 'only its own project')
  const text = await page.locator('main').textContent() ?? ''
  t.notMatch(text, /proj-1|live-\d/, 'nothing of proj-1 on the page')
  await applyFilter(page, { Project: 'proj-1' })
  await page.locator('#problem').waitFor()
  t.equal(await page.locator('#problem-title').textContent(), 'Not allowed')
  t.same(await videosShown(page), ['other-1'], 'the list is not replaced by anything of proj-1')
  const [file] = await Promise.all([page.waitForEvent('download'), (async () => {
    await applyFilter(page, {})
    await page.getByRole('button', { name: 'Download NDJSON' }).click()
  })()])
  t.notMatch(readFileSync(await file.path(), 'utf8'), /proj-1/, 'nor in its export')
})

t.test('an expired or refused token leads back to the token field, with the problem\'s title and detail', async (t) => {
  const page = await openConsole()
  await signIn(page, hsToken({ scope: 'audit:read', exp: Math.floor(Date.now() / 1000) - 3600 }))
  await page.locator('#problem').waitFor()
  t.equal(await page.locator('#problem-title').textContent(), 'Authentication required')
  t.equal(await page.locator('#problem-detail').textContent(), 'The token has expired.')
  t.equal(await page.evaluate('document.activeElement.id'), 'token', 'focus is on the token field')
  t.ok(await page.locator('#trail-view').isHidden(), 'nothing of the trail')

  await signIn(page, hsToken({ scope: 'live:cut' }))
  await page.locator('#problem-detail').filter({ hasText: 'audit:read' }).waitFor()
  t.equal(await page.locator('#problem-title').textContent(), 'Not allowed')
  t.equal(await page.locator('#problem-detail').textContent(), 'The token lacks the scope audit:read.')

  await signIn(page, 'not a token')
  await page.locator('#problem-title').filter({ hasText: 'That is not a token' }).waitFor()
  t.pass('a text that is not a JWT is refused before any call')

  await signIn(page, auditorToken)
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'a good token then works')
  t.ok(await page.locator('#problem').isHidden(), 'the problem is gone')
  await page.getByRole('button', { name: 'Forget the token' }).click()
  t.ok(await page.locator('#trail-view').isHidden(), 'forgetting the token hides the trail')
  t.equal(await page.locator('#entries tbody tr').count(), 0, 'and removes the entries from the page')
})

t.test('trail integrity: the latest signed checkpoint as the API lists it, confirmed by the verification', async (t) => {
  const [latest] = (await checkpointsOf(service.app, '?limit=1')).items
  if (latest === undefined) throw new Error('set-up: no checkpoint was signed')
  const { kid } = await getJson<Jwk>(service.app, '/v1/audit/public-key')
  const page = await openConsole()
  await signIn(page, auditorToken)
  await page.locator('#verify-result.verify-ok').waitFor()
  const verified = await getJson<{ checked: number, head: { seq: number } }>(service.app, '/v1/audit/verify')
  t.equal(await page.locator('#verify-result').textContent(), `Chain intact: ${verified.checked} records checked.`, 'the verification result')
  t.equal(await page.locator('#verify-head dd[data-field="head.seq"]').textContent(), String(verified.head.seq), 'the head it reached')
  await page.locator('#checkpoint-fields dd[data-field="seq"]').waitFor()
  const field = async (name: string): Promise<string | null> => await page.locator(`#checkpoint-fields dd[data-field="${name}"]`).textContent()
  t.equal(await field('seq'), String(latest.seq), 'the latest checkpoint\'s record number')
  t.equal(await field('keyId'), latest.keyId, 'its key id')
  t.equal(latest.keyId, kid, 'the key id of the service\'s public key')
  t.equal(await field('hash'), latest.hash, 'its hash')
  t.equal(await page.locator('#checkpoint-fields dd[data-field="time"] time').getAttribute('datetime'), latest.time, 'its time')
  t.equal(await page.locator('#checkpoint-status').textContent(), 'Its signature and the chain up to it verified.', 'confirmed by the verification answer')
})

t.test('parts whose API this service does not serve are absent, whatever the token may do', async (t) => {
  const paths = Object.keys((await fetch(`${base}/openapi.json`).then(async (response) => await response.json()) as { paths: object }).paths)
  const page = await openConsole()
  await signIn(page, hsToken({ sub: 'auditor-3', scope: 'audit:read audit:resolve', projects: ['proj-1'] }))
  await expectVideos(t, page, PROJ_1_NEWEST_FIRST, 'listed')
  await page.locator('#verify-result.verify-ok').waitFor()
  t.equal(await page.locator('#checkpoint-panel').isVisible(), paths.includes('/v1/audit/checkpoints'), 'the checkpoint panel, exactly when checkpoints are served')
  const resolutions = paths.includes('/v1/audit/events/{id}/resolution')
  t.equal(await page.locator('#queue-view').isVisible(), resolutions, 'the resolve queue, exactly when resolutions are served')
  t.equal(await page.getByLabel('Resolution', { exact: true }).isVisible(), resolutions, 'the resolved filter likewise')
})

t.test('readable on a phone-sized viewport and at 200 % zoom: nothing wider than the screen', async (t) => {
  for (const [name, options] of [
    ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
    ['zoom-200', { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 }]
  ] as const) {
    const page = await openConsole(options)
    await signIn(page, auditorToken)
    await expectVideos(t, page, PROJ_1_NEWEST_FIRST, `${name}: listed`)
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), `${name}: no horizontal scrolling`)
    if (name === 'phone') {
      await page.locator('#list-summary').scrollIntoViewIfNeeded()
      await screenshot(page, 'console-phone.png', false)
    }
  }
})

t.test('Swagger UI at /docs works under its own policy', async (t) => {
  const { page, trouble } = await watchedPage(browser)
  troubles.push(trouble)
  await page.goto(`${base}/docs`)
  await page.locator('.opblock').first().waitFor()
  t.ok(await page.locator('.opblock').count() >= 6, 'the operations are rendered')
})

t.test('the CSP is enforced: an inline script is refused and reported', async (t) => {
  const { page, trouble } = await watchedPage(browser)
  await page.goto(consoleUrl)
  await page.evaluate('(() => { const script = document.createElement(\'script\'); script.textContent = \'window.injected = true\'; document.body.append(script) })()')
  // The violation event is dispatched after the element is refused.
  for (let tries = 0; tries < 100 && trouble.cspViolations.length === 0; tries++) await page.waitForTimeout(20)
  t.equal(await page.evaluate('window.injected === true'), false, 'the inline script did not run')
  t.match(trouble.cspViolations, [/^script-src-elem blocked inline/], 'the violation was seen')
})

t.test('no console error, no uncaught exception, no CSP violation on any page above', async (t) => {
  t.ok(troubles.length >= 8, 'every page was watched')
  t.same(troubles.flatMap((trouble) => trouble.cspViolations), [], 'no CSP violation')
  t.same(troubles.flatMap((trouble) => trouble.pageErrors), [], 'no uncaught exception')
  t.same(troubles.flatMap(unexpectedConsoleErrors), [], 'no console error')
  const failed = troubles.flatMap((trouble) => trouble.failedResponses)
  t.same(failed.filter((response) => !/^(401|403) GET \/v1\/audit\/events$/.test(response)), [],
    'no failed load except the refused tokens and project above')
  t.ok(failed.length >= 4, 'those refusals were seen')
})
