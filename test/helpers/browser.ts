import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'

/** Debian's chromium, never a browser download; `.ci/run` installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium'

/** Where screenshots of the main views go (git-ignored); docs/ keeps one of each for the README. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url)

interface Teardown { teardown: (fn: () => unknown) => void }

/** One headless Chromium for a test file; it fails (never skips) when the browser is missing. */
export async function launchChromium (t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does it)`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A fresh profile comes with launch; these keep the browser off the network and quiet.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  mkdirSync(ARTIFACTS, { recursive: true })
  return browser
}

/** What a page said went wrong: console errors, uncaught exceptions, CSP violations, failed loads. */
export interface PageTrouble {
  consoleErrors: string[]
  pageErrors: string[]
  cspViolations: string[]
  /** Responses of 400 or more, as "status METHOD path". */
  failedResponses: string[]
}

/** A page in a fresh context, watched for anything going wrong. */
export async function watchedPage (browser: Browser, options: BrowserContextOptions = {}): Promise<{ page: Page, trouble: PageTrouble }> {
  const context = await browser.newContext({ timezoneId: 'UTC', locale: 'en-GB', ...options })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const trouble: PageTrouble = { consoleErrors: [], pageErrors: [], cspViolations: [], failedResponses: [] }
  page.on('console', (message) => { if (message.type() === 'error') trouble.consoleErrors.push(message.text()) })
  page.on('pageerror', (error) => { trouble.pageErrors.push(error.message) })
  page.on('response', (response) => {
    if (response.status() >= 400) trouble.failedResponses.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`)
  })
  await page.exposeFunction('reportCspViolation', (violation: string) => { trouble.cspViolations.push(violation) })
  // Added by the browser driver before any script of the page, so the page's CSP does not apply to it.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    window.reportCspViolation(event.effectiveDirective + ' blocked ' + (event.blockedURI || 'inline') + ' at ' + event.sourceFile + ':' + event.lineNumber)
  })`)
  return { page, trouble }
}

/**
 * Console errors other than Chromium's line for each HTTP error a fetch() received: those
 * responses are in `failedResponses`, for the test to say which were expected.
 */
export function unexpectedConsoleErrors (trouble: PageTrouble): string[] {
  return trouble.consoleErrors.filter((text) => !text.startsWith('Failed to load resource: the server responded with a status of'))
}
