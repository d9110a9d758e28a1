import type { Test } from 'tap'
import type { Page } from 'playwright-core'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { ScriptedFault } from '../../src/simulator/simulator-state.ts'
import { launchChromium, watchedPage, type PageTrouble } from './browser.ts'
import { ManualClock, SIGNING_KEY } from './checkpoints.ts'
import { startService } from './service.ts'
import { hsToken } from './tokens.ts'

// What the console's browser tests share: the real service on a loopback port whose trail holds
// cuts made through the cut route (the platform simulator answering, with scripted faults for
// each outcome) and signed checkpoints of it, one Chromium for the file, and the steps an
// auditor takes on the page.

interface Cut { project: string, video: string, sub: string, body?: unknown, fault?: ScriptedFault[], status: number }

/** In the order they are made; the console lists them newest first. live-5 is the one `unknown`. */
const CUTS: Cut[] = [
  { project: 'proj-1', video: 'live-1', sub: 'alice', body: { startMs: 600000, endMs: 900000, visibility: 'public' }, status: 200 },
  { project: 'proj-1', video: 'live-2', sub: 'bob', status: 200 },
  { project: 'proj-1', video: 'live-3', sub: 'alice', fault: [{ kind: '503' }], status: 200 },
  { project: 'proj-1', video: 'live-4', sub: 'alice', fault: [{ kind: '500' }], status: 502 },
  { project: 'proj-1', video: 'live-5', sub: 'alice', fault: [{ kind: 'hang' }], status: 504 },
  { project: 'proj-1', video: 'live-6', sub: 'alice', body: { startMS: 1 }, status: 400 },
  ...[7, 8, 9, 10, 11].map((n) => ({ project: 'proj-1', video: `live-${n}`, sub: 'bob', status: 200 })),
  { project: 'proj-2', video: 'other-1', sub: 'carol', status: 200 }
]

/** The videos of proj-1, newest first. */
export const PROJ_1_NEWEST_FIRST = CUTS.filter((cut) => cut.project === 'proj-1').map((cut) => cut.video).reverse()

export async function startConsoleTrail (t: Test) {
  // A checkpoint every 10 records; the interval timer of the injected clock never fires, so the
  // latest checkpoint stays the one the set-up's cuts caused.
  const clock = new ManualClock()
  const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000)
  clock.nowMs = startedAt.getTime()
  const service = await startService(t, {
    // Short, so the hanging platform call becomes an `unknown` outcome at once.
    env: { UPSTREAM_TIMEOUT_MS: '200', AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_CHECKPOINT_RECORDS: '10' },
    build: { checkpointClock: clock }
  })
  const base = await service.app.listen({ host: '127.0.0.1', port: 0 })
  for (const cut of CUTS) {
    if (cut.fault !== undefined) service.simulator.app.simulator.script(cut.fault)
    const response = await fetch(`${base}/v1/projects/${cut.project}/live-videos/${cut.video}/cut`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hsToken({ sub: cut.sub, projects: ['proj-1', 'proj-2'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify(cut.body ?? {})
    })
    await response.arrayBuffer()
    if (response.status !== cut.status) throw new Error(`set-up: the cut of ${cut.video} answered ${response.status}, not ${cut.status}`)
  }
  await service.app.auditCheckpoints.schedule.idle()

  /** An entry as the review API gives it, to compare the page with. */
  async function entryOf (video: string): Promise<AuditEntry & { resolution?: unknown }> {
    const response = await service.app.inject({ url: `/v1/audit/events?videoId=${video}`, headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: '*' })}` } })
    const entry = response.json<{ items: AuditEntry[] }>().items[0]
    if (entry === undefined) throw new Error(`no entry for ${video}`)
    return entry
  }

  const browser = await launchChromium(t)
  /** What went wrong on every page opened, for the file's last test. */
  const troubles: PageTrouble[] = []
  async function openConsole (options: Parameters<typeof watchedPage>[1] = {}): Promise<Page> {
    const { page, trouble } = await watchedPage(browser, options)
    troubles.push(trouble)
    await page.goto(`${base}/console/`)
    return page
  }

  return { service, base, browser, startedAt, entryOf, openConsole, troubles }
}

export async function signIn (page: Page, token: string): Promise<void> {
  await page.getByLabel('Bearer token').fill(token)
  await page.getByRole('button', { name: 'Open the audit trail' }).click()
}

/** The video column of the entries table, top to bottom. */
export async function videosShown (page: Page): Promise<string[]> {
  return await page.locator('#entries tbody td[data-label="Video"]').allTextContents()
}

/** Clears the filter, sets these fields (by label) and applies it. */
export async function applyFilter (page: Page, fields: Record<string, string>): Promise<void> {
  await page.getByRole('button', { name: 'Clear' }).click()
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true })
    if (await field.evaluate((element: { tagName: string }) => element.tagName) === 'SELECT') await field.selectOption(value)
    else await field.fill(value)
  }
  await page.getByRole('button', { name: 'Apply filter' }).click()
}

/** Checks the table shows these videos, once the page's answer has arrived (within 5 s). */
export async function expectVideos (t: Test, page: Page, videos: string[], message: string): Promise<void> {
  let shown = await videosShown(page)
  for (let tries = 0; tries < 100 && shown.join() !== videos.join(); tries++) {
    await page.waitForTimeout(50)
    shown = await videosShown(page)
  }
  t.same(shown, videos, message)
}
