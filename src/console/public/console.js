// @ts-check
import { ApiProblem, openApiDocument, queryString, reviewApi } from './api.js'
import { readClaims } from './claims.js'
import { byId, formatTime, h, timeElement } from './dom.js'
import { showFields } from './entry-fields.js'
import { featuresOf, NO_FEATURES } from './features.js'

/** @typedef {import('./api.js').ReviewApi} ReviewApi */
/** @typedef {import('./api.js').AuditEntry} AuditEntry */
/** @typedef {import('./api.js').AuditPage} AuditPage */
/** @typedef {import('./api.js').VerifyAnswer} VerifyAnswer */
/** @typedef {import('./api.js').CheckpointPage} CheckpointPage */
/** @typedef {import('./api.js').EventsQuery} EventsQuery */
/** @typedef {import('./claims.js').TokenClaims} TokenClaims */
/** @typedef {import('./features.js').Features} Features */
/** @typedef {Omit<EventsQuery, 'cursor'>} Filter */

const READ_SCOPE = 'audit:read'
const RESOLVE_SCOPE = 'audit:resolve'
const QUEUE_LIMIT = 100

const view = {
  session: byId('session', HTMLElement),
  sessionWho: byId('session-who', HTMLElement),
  forget: byId('forget-token', HTMLButtonElement),
  problem: byId('problem', HTMLElement),
  problemTitle: byId('problem-title', HTMLElement),
  problemDetail: byId('problem-detail', HTMLElement),
  problemErrors: byId('problem-errors', HTMLUListElement),
  tokenView: byId('token-view', HTMLElement),
  tokenForm: byId('token-form', HTMLFormElement),
  token: byId('token', HTMLTextAreaElement),
  trailView: byId('trail-view', HTMLElement),
  verifyResult: byId('verify-result', HTMLElement),
  verifyHead: byId('verify-head', HTMLDListElement),
  verifyAgain: byId('verify-again', HTMLButtonElement),
  checkpointPanel: byId('checkpoint-panel', HTMLElement),
  checkpointStatus: byId('checkpoint-status', HTMLElement),
  checkpointFields: byId('checkpoint-fields', HTMLDListElement),
  queueView: byId('queue-view', HTMLElement),
  queueSummary: byId('queue-summary', HTMLElement),
  queueList: byId('queue-list', HTMLUListElement),
  listView: byId('list-view', HTMLElement),
  listHeading: byId('list-heading', HTMLElement),
  filters: byId('filters', HTMLFormElement),
  resolvedField: byId('resolved-field', HTMLElement),
  exportCsv: byId('export-csv', HTMLButtonElement),
  exportNdjson: byId('export-ndjson', HTMLButtonElement),
  exportStatus: byId('export-status', HTMLElement),
  listSummary: byId('list-summary', HTMLElement),
  rows: /** @type {HTMLTableSectionElement} */ (byId('entries', HTMLTableElement).tBodies[0]),
  firstPage: byId('first-page', HTMLButtonElement),
  previousPage: byId('previous-page', HTMLButtonElement),
  nextPage: byId('next-page', HTMLButtonElement),
  entryView: byId('entry-view', HTMLElement),
  entryHeading: byId('entry-heading', HTMLElement),
  entryBack: byId('entry-back', HTMLButtonElement),
  entryFields: byId('entry-fields', HTMLDListElement),
  resolveForm: byId('resolve-form', HTMLFormElement)
}

/**
 * Everything the page knows, in memory only: the token lives in `api`'s closure and is gone
 * when the tab is closed, reloaded, or the auditor forgets it.
 */
const state = {
  /** @type {ReviewApi | null} */
  api: null,
  /** @type {TokenClaims | null} */
  claims: null,
  /** @type {Features} */
  features: NO_FEATURES,
  /** @type {Filter} */
  filter: { limit: 50 },
  /** Cursors of the pages before the one shown (undefined: the first page). @type {Array<string | undefined>} */
  previousCursors: [],
  /** @type {string | undefined} */
  cursor: undefined,
  /** @type {string | null} */
  nextCursor: null,
  /** Which list request is the latest: an answer to an older one is dropped. */
  listRequests: 0,
  /** @type {AuditEntry | null} */
  entry: null,
  /** The control that opened the entry view, to return to. @type {HTMLElement | null} */
  opener: null
}

const featuresLoaded = openApiDocument().then(featuresOf, () => NO_FEATURES)

// Problems ---------------------------------------------------------------------------------

/** @param {unknown} error */
function showProblem (error) {
  const problem = error instanceof ApiProblem
    ? error
    : new ApiProblem(0, 'Something went wrong in this page', error instanceof Error ? error.message : String(error))
  view.problemTitle.textContent = problem.title
  view.problemDetail.textContent = problem.detail
  view.problemErrors.replaceChildren(...problem.errors.map((e) => h('li', {}, e.field === '' ? e.message : `${e.field}: ${e.message}`)))
  view.problem.hidden = false
}

function clearProblem () {
  view.problem.hidden = true
}

/**
 * Runs an action of the page: a problem is shown; an unauthenticated one (expired or revoked
 * token) forgets the token and leads back to the token field.
 * @param {() => Promise<void>} action
 */
async function run (action) {
  try {
    await action()
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) signOut()
    showProblem(error)
    if (state.api === null) view.token.focus()
  }
}

/** The API of the signed-in auditor; actions run only while there is one. */
function api () {
  if (state.api === null) throw new ApiProblem(401, 'Not signed in', 'Paste a token first.')
  return state.api
}

// Signing in and out -----------------------------------------------------------------------

/** @param {string} token */
async function signIn (token) {
  const claims = readClaims(token)
  if (claims === null) {
    throw new ApiProblem(0, 'That is not a token', 'Paste the whole access token: three base64url parts separated by dots.')
  }
  state.features = await featuresLoaded
  state.api = reviewApi(token)
  state.claims = claims
  state.filter = filterFromForm()
  view.token.value = ''
  try {
    // Listed first: a token without audit:read or with a bad signature is refused here, and forgotten.
    await loadPage(undefined, [])
  } catch (error) {
    signOut()
    throw error
  }
  view.tokenView.hidden = true
  view.trailView.hidden = false
  view.session.hidden = false
  view.sessionWho.textContent = `Signed in as ${claims.sub ?? 'an unnamed subject'} (${[...claims.scopes].join(' ') || 'no scopes'})` +
    (claims.expiresAt === null ? '' : `, token valid until ${formatTime(claims.expiresAt.toISOString())}`)
  view.resolvedField.hidden = !state.features.resolution
  clearProblem()
  view.listHeading.focus()
  await Promise.all([loadIntegrity(), loadQueue()])
}

function signOut () {
  state.api = null
  state.claims = null
  state.entry = null
  view.rows.replaceChildren()
  view.entryFields.replaceChildren()
  view.queueList.replaceChildren()
  view.trailView.hidden = true
  view.session.hidden = true
  view.entryView.hidden = true
  view.listView.hidden = false
  view.tokenView.hidden = false
}

function canResolve () {
  return state.features.resolution && (state.claims?.scopes.has(RESOLVE_SCOPE) ?? false)
}

// The list ---------------------------------------------------------------------------------

/** The filter as the form holds it. @returns {Filter} */
function filterFromForm () {
  const form = new FormData(view.filters)
  const text = (/** @type {string} */ name) => {
    const value = form.get(name)
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
  }
  // datetime-local has no zone: the labels say UTC, as the trail's times are.
  const utc = (/** @type {string} */ name) => {
    const value = text(name)
    return value === undefined ? undefined : `${value.length === 16 ? `${value}:00` : value}Z`
  }
  const outcome = /** @type {Filter['outcome']} */ (text('outcome'))
  const resolved = state.features.resolution && text('resolved') !== undefined ? text('resolved') === 'true' : undefined
  return {
    projectId: text('projectId'),
    videoId: text('videoId'),
    actor: text('actor'),
    outcome,
    resolved,
    since: utc('since'),
    until: utc('until'),
    limit: Number(text('limit') ?? 50)
  }
}

/**
 * Shows the page of the current filter that starts at `cursor`.
 * @param {string | undefined} cursor
 * @param {Array<string | undefined>} previousCursors
 */
async function loadPage (cursor, previousCursors) {
  const request = ++state.listRequests
  /** @type {AuditPage} */
  const page = await api().get(`v1/audit/events${queryString({ ...state.filter, cursor })}`)
  if (request !== state.listRequests) return
  state.cursor = cursor
  state.previousCursors = previousCursors
  state.nextCursor = page.nextCursor
  view.rows.replaceChildren(...page.items.map(entryRow))
  const first = previousCursors.length * (state.filter.limit ?? 50) + 1
  view.listSummary.textContent = page.items.length === 0
    ? (previousCursors.length === 0 ? 'No entries match this filter.' : 'No more entries.')
    : `Entries ${first}–${first + page.items.length - 1}${page.nextCursor === null ? ' (the last page)' : ''}, newest first.`
  view.nextPage.disabled = page.nextCursor === null
  view.previousPage.disabled = previousCursors.length === 0
  view.firstPage.disabled = previousCursors.length === 0
}

/** @param {AuditEntry} entry */
function entryRow (entry) {
  const open = h('button', { type: 'button', class: 'link', 'data-entry-id': entry.id }, 'Details', h('span', { class: 'visually-hidden' }, ` of the entry at ${formatTime(entry.time)}`))
  open.addEventListener('click', () => { void run(() => openEntry(entry.id, open)) })
  const cell = (/** @type {string} */ label, /** @type {Node | string} */ content) => h('td', { 'data-label': label }, content)
  return h('tr', { 'data-entry-id': entry.id },
    cell('Time (UTC)', timeElement(entry.time)),
    cell('Project', entry.projectId ?? '—'),
    cell('Video', entry.videoId ?? '—'),
    cell('Actor', entry.actor.sub ?? 'unauthenticated'),
    cell('Outcome', outcomeBadge(entry)),
    cell('Status', entry.status === null ? '—' : String(entry.status)),
    cell('Reason', entry.reason ?? '—'),
    h('td', { class: 'open' }, open))
}

/** The outcome in words (never by colour alone), and whether an unknown one was resolved. @param {AuditEntry} entry */
function outcomeBadge (entry) {
  const badge = h('span', { class: `outcome outcome-${entry.outcome}` }, entry.outcome)
  if (entry.outcome !== 'unknown' || entry.resolution == null) return badge
  return h('span', {}, badge, ` resolved: ${entry.resolution.outcome}`)
}

// One entry --------------------------------------------------------------------------------

/**
 * @param {string} id
 * @param {HTMLElement | null} opener
 */
async function openEntry (id, opener) {
  /** @type {AuditEntry} */
  const entry = await api().get(`v1/audit/events/${encodeURIComponent(id)}`)
  state.opener = opener
  showEntry(entry)
  view.listView.hidden = true
  view.queueView.hidden = true
  view.entryView.hidden = false
  view.entryHeading.focus()
}

/** @param {AuditEntry} entry */
function showEntry (entry) {
  state.entry = entry
  view.entryHeading.textContent = `Entry of ${formatTime(entry.time)}: ${entry.outcome}`
  showFields(view.entryFields, entry)
  view.resolveForm.reset()
  view.resolveForm.hidden = !(canResolve() && entry.outcome === 'unknown' && entry.resolution == null)
}

function closeEntry () {
  view.entryView.hidden = true
  view.listView.hidden = false
  view.queueView.hidden = !canResolve()
  const opener = state.opener !== null && document.contains(state.opener) ? state.opener : view.listHeading
  if (opener instanceof HTMLElement) opener.focus()
}

async function resolveEntry () {
  const entry = state.entry
  if (entry === null) return
  const form = new FormData(view.resolveForm)
  const outcome = form.get('outcome')
  const note = String(form.get('note') ?? '').trim()
  const videoPublicId = String(form.get('videoPublicId') ?? '').trim()
  if (outcome !== 'succeeded' && outcome !== 'failed') throw new ApiProblem(0, 'Say what happened', 'Choose whether the cut succeeded or failed at the platform.')
  if (note === '') throw new ApiProblem(0, 'A note is needed', 'Say what you checked on the platform (1–1000 characters).')
  /** @type {import('./api.js').ResolutionRequest} */
  const body = { outcome, note, ...(videoPublicId !== '' && { videoPublicId }) }
  /** @type {AuditEntry} The entry, read back with its resolution. */
  const resolved = await api().post(`v1/audit/events/${encodeURIComponent(entry.id)}/resolution`, body)
  showEntry(resolved)
  clearProblem()
  view.entryHeading.focus()
  await Promise.all([loadQueue(), loadPage(state.cursor, state.previousCursors)])
}

// Integrity and the queue ------------------------------------------------------------------

async function loadIntegrity () {
  view.verifyResult.textContent = 'Verifying the hash chain…'
  /** @type {VerifyAnswer} */
  const result = await api().get('v1/audit/verify')
  view.verifyResult.className = result.ok ? 'verify verify-ok' : 'verify verify-bad'
  view.verifyResult.textContent = result.ok
    ? `Chain intact: ${result.checked} records checked.`
    : `Verification failed after ${result.checked} records: record ${result.firstBad?.seq} (${result.firstBad?.problem})` +
      (result.firstBad?.entryId == null ? '.' : `, entry ${result.firstBad.entryId}.`)
  showFields(view.verifyHead, { head: result.head })
  view.checkpointPanel.hidden = !state.features.checkpoints
  if (!state.features.checkpoints) return
  /** @type {CheckpointPage} */
  const checkpoints = await api().get('v1/audit/checkpoints?limit=1')
  const latest = checkpoints.items[0]
  if (latest === undefined) {
    view.checkpointStatus.textContent = 'No checkpoint has been signed yet.'
    view.checkpointFields.replaceChildren()
    return
  }
  // The verification answer names the newest checkpoint whose signature it checked.
  view.checkpointStatus.textContent = result.checkpoint?.seq === latest.seq && result.checkpoint.signature === latest.signature
    ? 'Its signature and the chain up to it verified.'
    : 'The verification above did not confirm this checkpoint.'
  showFields(view.checkpointFields, latest)
}

async function loadQueue () {
  // Shown with the list, not over an open entry.
  view.queueView.hidden = !canResolve() || !view.entryView.hidden
  if (!canResolve()) return
  /** @type {AuditPage} */
  const page = await api().get(`v1/audit/events${queryString({ outcome: 'unknown', resolved: false, limit: QUEUE_LIMIT })}`)
  view.queueSummary.textContent = page.items.length === 0
    ? 'No unknown outcome is waiting: every one has been resolved.'
    : `${page.items.length}${page.nextCursor === null ? '' : '+'} unknown outcome${page.items.length === 1 ? '' : 's'} to check on the platform, newest first.`
  view.queueList.replaceChildren(...page.items.map((entry) => {
    const review = h('button', { type: 'button', class: 'secondary', 'data-entry-id': entry.id }, 'Review and resolve',
      h('span', { class: 'visually-hidden' }, ` the entry at ${formatTime(entry.time)}`))
    review.addEventListener('click', () => { void run(() => openEntry(entry.id, review)) })
    return h('li', {}, timeElement(entry.time), ` ${entry.projectId ?? '—'} / ${entry.videoId ?? '—'} by ${entry.actor.sub ?? 'unauthenticated'}, ${entry.reason ?? 'no reason'} `, review)
  }))
}

// Exports ----------------------------------------------------------------------------------

/** @param {'csv' | 'ndjson'} format */
async function exportEntries (format) {
  const accept = format === 'csv' ? 'text/csv' : 'application/x-ndjson'
  const { limit: _limit, ...filter } = state.filter
  view.exportStatus.textContent = `Preparing the ${format.toUpperCase()} export…`
  const blob = await api().download(`v1/audit/events${queryString(filter)}`, accept)
  const url = URL.createObjectURL(blob)
  const name = `audit-${filter.projectId ?? 'all-projects'}-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`
  const link = h('a', { href: url, download: name, class: 'visually-hidden' }, name)
  document.body.append(link)
  link.click()
  link.remove()
  // Some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
  view.exportStatus.textContent = `Downloaded ${name}.`
}

// Wiring -----------------------------------------------------------------------------------

view.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault()
  // Also as copied from a shell line or a header: quoted, or with its scheme.
  const token = view.token.value.trim().replace(/^(['"])(.*)\1$/s, '$2').replace(/^Bearer\s+/i, '')
  if (token === '') {
    showProblem(new ApiProblem(0, 'No token', `Paste an access token with the scope ${READ_SCOPE}.`))
    view.token.focus()
    return
  }
  void run(() => signIn(token))
})
view.forget.addEventListener('click', () => {
  signOut()
  clearProblem()
  view.token.focus()
})
view.filters.addEventListener('submit', (event) => {
  event.preventDefault()
  state.filter = filterFromForm()
  void run(async () => {
    await loadPage(undefined, [])
    clearProblem()
  })
})
view.filters.addEventListener('reset', () => {
  // After the form has cleared its fields.
  setTimeout(() => view.filters.requestSubmit(), 0)
})
view.nextPage.addEventListener('click', () => {
  if (state.nextCursor === null) return
  const cursor = state.nextCursor
  void run(() => loadPage(cursor, [...state.previousCursors, state.cursor]))
})
view.previousPage.addEventListener('click', () => {
  const previous = state.previousCursors.slice(0, -1)
  void run(() => loadPage(state.previousCursors.at(-1), previous))
})
view.firstPage.addEventListener('click', () => { void run(() => loadPage(undefined, [])) })
view.verifyAgain.addEventListener('click', () => { void run(loadIntegrity) })
view.exportCsv.addEventListener('click', () => { void run(() => exportEntries('csv')) })
view.exportNdjson.addEventListener('click', () => { void run(() => exportEntries('ndjson')) })
view.entryBack.addEventListener('click', closeEntry)
view.resolveForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void run(resolveEntry)
})
document.addEventListener('keydown', (event) => {
  // Not from inside the resolve form, where it would throw away a note being written.
  if (event.key === 'Escape' && !view.entryView.hidden && !view.resolveForm.contains(document.activeElement)) closeEntry()
})
