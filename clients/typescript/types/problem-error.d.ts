/**
 * The error for a non-2xx answer. A body that is not a problem document (a proxy's page, an
 * empty body) becomes one, so callers handle one shape.
 * @param {Response} response
 * @param {unknown} body the answer's body, parsed when it was JSON
 * @param {string | null} [idempotencyKey]
 */
export function problemErrorFrom(response: Response, body: unknown, idempotencyKey?: string | null): LivecutProblemError;
/**
 * An answer of the service that is not a success, as the RFC 9457 problem it carries.
 * `code` is the part of `type` after `urn:livecut:problem:` (`validation`, `upstream_timeout`…),
 * null when the answer did not come from the service (a proxy's HTML page, say).
 */
export class LivecutProblemError extends Error {
    /**
     * @param {number} status
     * @param {Problem} problem
     * @param {string | null} idempotencyKey the key of the cut that got this answer, null for other calls
     */
    constructor(status: number, problem: Problem, idempotencyKey?: string | null);
    status: number;
    code: string | null;
    problem: {
        type: string;
        title: string;
        status: number;
        detail: string;
        requestId: string;
        errors?: {
            field: string;
            in: "body" | "path" | "header" | "query";
            message: string;
        }[];
        upstreamErrors?: unknown[];
    };
    idempotencyKey: string | null;
}
/**
 * The deadline passed before the service answered: the cut may or may not have happened.
 * Calling `stopAndCut` again with the same `idempotencyKey` is safe: it replays the first answer.
 */
export class LivecutDeadlineError extends Error {
    /**
     * @param {string} idempotencyKey
     * @param {number} attempts requests sent, the one cut short included
     * @param {unknown} cause the last failure (a network error, or the deadline itself)
     */
    constructor(idempotencyKey: string, attempts: number, cause: unknown);
    idempotencyKey: string;
    attempts: number;
    cause: unknown;
}
export type Problem = components["schemas"]["Problem"];
import type { components } from '../types/openapi.js';
