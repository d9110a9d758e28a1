// @ts-check
import { h, timeElement } from './dom.js'

// Every field of an entry, the ones this page knows with a readable label, any other (a field
// added later) under its own name: the entry view never hides a field.

/** @type {Record<string, string>} */
const LABELS = {
  id: 'Audit id',
  requestId: 'Request id',
  time: 'Time (UTC)',
  actor: 'Actor',
  sub: 'Subject',
  clientId: 'Client',
  ip: 'IP address',
  userAgent: 'User agent',
  action: 'Action',
  projectId: 'Project',
  videoId: 'Video',
  request: 'Request',
  cut: 'Cut',
  startMs: 'Start (ms)',
  endMs: 'End (ms)',
  startTime: 'Start time',
  endTime: 'End time',
  visibility: 'Visibility',
  idempotencyKey: 'Idempotency key',
  outcome: 'Outcome',
  status: 'HTTP status',
  reason: 'Reason',
  upstream: 'Platform calls',
  attempts: 'Attempts',
  statuses: 'Statuses, in order',
  latencyMs: 'Latency (ms)',
  videoPublicId: 'VOD public id',
  durationMs: 'Duration (ms)',
  resolution: 'Resolution',
  note: 'Note',
  by: 'Resolved by',
  seq: 'Record number',
  hash: 'Chain hash',
  keyId: 'Key id',
  signature: 'Signature',
  checked: 'Records checked',
  head: 'Head of the chain'
}

const TIME_FIELDS = new Set(['time', 'startTime', 'endTime'])

/**
 * @param {string} key
 * @param {unknown} value
 * @param {string} field the value's path, e.g. `upstream.statuses`
 * @returns {Node}
 */
function valueNode (key, value, field) {
  if (value === null || value === undefined) return h('span', { class: 'none' }, 'none')
  if (Array.isArray(value)) return value.length === 0 ? h('span', { class: 'none' }, 'none') : document.createTextNode(value.map(String).join(', '))
  if (typeof value === 'object') return h('dl', { class: 'fields' }, ...fieldRows(/** @type {Record<string, unknown>} */ (value), field))
  if (typeof value === 'string' && TIME_FIELDS.has(key)) return timeElement(value)
  return document.createTextNode(String(value))
}

/**
 * One row (term and value) per field; each value carries `data-field`, its path.
 * @param {Record<string, unknown>} object
 * @param {string} [path]
 * @returns {HTMLElement[]}
 */
function fieldRows (object, path = '') {
  return Object.entries(object).map(([key, value]) => {
    const field = path === '' ? key : `${path}.${key}`
    return h('div', { class: 'field-row' }, h('dt', {}, LABELS[key] ?? key), h('dd', { 'data-field': field }, valueNode(key, value, field)))
  })
}

/**
 * Shows every field of an object in a definition list, nested objects as nested lists.
 * @param {HTMLDListElement} list
 * @param {object} object
 */
export function showFields (list, object) {
  list.replaceChildren(...fieldRows(/** @type {Record<string, unknown>} */ (object)))
}
