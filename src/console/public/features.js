// @ts-check
// What this service offers beyond the basic review API, read from its own OpenAPI document:
// a part of the page whose API is not served is left out, never faked.

export const CHECKPOINTS_PATH = '/v1/audit/checkpoints'
export const RESOLUTION_PATH = '/v1/audit/events/{id}/resolution'

/** @typedef {{ checkpoints: boolean, resolution: boolean }} Features */

/**
 * @param {{ paths?: Record<string, Record<string, unknown>> }} document
 * @returns {Features}
 */
export function featuresOf (document) {
  const paths = document.paths ?? {}
  return {
    checkpoints: paths[CHECKPOINTS_PATH]?.get !== undefined,
    resolution: paths[RESOLUTION_PATH]?.post !== undefined
  }
}

/** @type {Features} */
export const NO_FEATURES = { checkpoints: false, resolution: false }
