// @ts-check
// Building the page's elements: text only through textContent, never HTML strings, so nothing
// an entry holds can become markup.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {Array<Node | string>} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h (tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value)
  element.append(...children)
  return element
}

/**
 * The element with this id, of the expected kind; a page without it is a bug in the page.
 * @template {typeof HTMLElement} T
 * @param {string} id
 * @param {T} kind
 * @returns {InstanceType<T>}
 */
export function byId (id, kind) {
  const element = document.getElementById(id)
  if (!(element instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`)
  return /** @type {InstanceType<T>} */ (element)
}

/** `2026-12-01 08:25:04.123Z`: UTC, as the trail records it, easier to read. @param {string} iso */
export function formatTime (iso) {
  return iso.replace('T', ' ')
}

/**
 * A `<time>` element for an ISO timestamp.
 * @param {string} iso
 */
export function timeElement (iso) {
  return h('time', { datetime: iso }, formatTime(iso))
}
