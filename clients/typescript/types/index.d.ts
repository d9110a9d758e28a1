/**
 * @param {LivecutClientOptions} options
 */
export function createLivecutClient({ baseUrl, token, fetch, retry }: LivecutClientOptions): {
    /**
     * Stops the live video and cuts it (or the given range) into a VOD. One Idempotency-Key
     * covers every attempt, so a retry after a 503 or a lost answer never cuts twice.
     * @param {string} projectId
     * @param {string} videoId
     * @param {CutBody} body `{}` cuts the whole stream
     * @param {StopAndCutOptions} [options]
     * @returns {Promise<CutResult>}
     */
    stopAndCut(projectId: string, videoId: string, body: CutBody, options?: StopAndCutOptions): Promise<CutResult>;
    /**
     * Audit entries the token may read, newest first (scope `audit:read`).
     * @param {AuditEventsQuery} [query] filters; pass the page's `nextCursor` as `cursor` for the next page
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEventsPage>}
     */
    listAuditEvents(query?: AuditEventsQuery, options?: RequestOptions): Promise<AuditEventsPage>;
    /**
     * One audit entry by id (the `auditId` of a cut's answer).
     * @param {string} id
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEntry>}
     */
    getAuditEvent(id: string, options?: RequestOptions): Promise<AuditEntry>;
    /**
     * Verifies the hash chain: the whole trail, or with `{ mode: 'incremental' }` only what follows
     * the newest checkpoint this service instance verified in full (the answer's `anchor`).
     * @param {AuditVerifyQuery} [query]
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditVerification>}
     */
    verifyAuditTrail(query?: AuditVerifyQuery, options?: RequestOptions): Promise<AuditVerification>;
    /**
     * Signed checkpoints of the chain's head, newest first: keep them elsewhere, and a trail cut
     * off or rewritten before one fails verification against it.
     * @param {AuditCheckpointsQuery} [query] pass the page's `nextCursor` as `cursor` for the next page
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditCheckpointsPage>}
     */
    listAuditCheckpoints(query?: AuditCheckpointsQuery, options?: RequestOptions): Promise<AuditCheckpointsPage>;
    /**
     * The public key that verifies the checkpoints, as a JWK (`kid` is their `keyId`).
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditPublicKey>}
     */
    getAuditPublicKey(options?: RequestOptions): Promise<AuditPublicKey>;
    /**
     * Records what became of a cut whose outcome is `unknown`, as a person who checked the
     * platform found it (scope `audit:resolve`). Sent once, never retried: a resolution is
     * that person's decision, and a 409 `already_resolved` tells them someone else made it.
     * @param {string} id the entry's id
     * @param {ResolutionBody} body
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEntry>} the entry with its `resolution`; its own `outcome` stays `unknown`
     */
    resolveAuditEvent(id: string, body: ResolutionBody, options?: RequestOptions): Promise<AuditEntry>;
};
export type LivecutClient = ReturnType<typeof createLivecutClient>;
export type Problem = components["schemas"]["Problem"];
export type AuditEntry = components["schemas"]["AuditEntry"];
export type CutBody = operations["stopAndCutLiveVideo"]["requestBody"]["content"]["application/json"];
export type CutResult = operations["stopAndCutLiveVideo"]["responses"][200]["content"]["application/json"];
/**
 * `limit` defaults to 50 on the service
 */
export type AuditEventsQuery = NonNullable<operations["listAuditEvents"]["parameters"]["query"]>;
export type AuditEventsPage = operations["listAuditEvents"]["responses"][200]["content"]["application/json"];
/**
 * `mode` defaults to `full` on the service
 */
export type AuditVerifyQuery = NonNullable<operations["verifyAuditTrail"]["parameters"]["query"]>;
export type AuditVerification = operations["verifyAuditTrail"]["responses"][200]["content"]["application/json"];
export type ResolutionBody = operations["resolveAuditEvent"]["requestBody"]["content"]["application/json"];
export type AuditCheckpoint = components["schemas"]["AuditCheckpoint"];
/**
 * `limit` defaults to 50 on the service
 */
export type AuditCheckpointsQuery = NonNullable<operations["listAuditCheckpoints"]["parameters"]["query"]>;
export type AuditCheckpointsPage = operations["listAuditCheckpoints"]["responses"][200]["content"]["application/json"];
export type AuditPublicKey = operations["getAuditPublicKey"]["responses"][200]["content"]["application/json"];
export type LivecutClientOptions = {
    /**
     * origin of the service, e.g. `https://livecut.internal`
     */
    baseUrl: string;
    /**
     * the bearer token, or a function
     * returning the current one: it is called before every request, retries included
     */
    token: string | (() => string | Promise<string>);
    /**
     * defaults to the platform's `fetch`
     */
    fetch?: typeof fetch | undefined;
    /**
     * bounds of the backoff between cut attempts (250 ms, 4 s)
     */
    retry?: Partial<Backoff> | undefined;
};
export type RetryEvent = {
    /**
     * the attempt that just failed (1 for the first)
     */
    attempt: number;
    /**
     * how long until the next one
     */
    waitMs: number;
    /**
     * why: a 503 (or an in-flight key), or a network failure
     */
    error: LivecutProblemError | Error;
};
export type StopAndCutOptions = {
    /**
     * one key per logical cut; generated when absent
     */
    idempotencyKey?: string | undefined;
    /**
     * all attempts and waits together (default 30 000)
     */
    deadlineMs?: number | undefined;
    /**
     * aborts the request and any wait; rejects with its reason
     */
    signal?: AbortSignal | undefined;
    /**
     * called before each wait, e.g. to show "retrying…"
     */
    onRetry?: ((event: RetryEvent) => void) | undefined;
};
export type RequestOptions = {
    signal?: AbortSignal;
};
import { LivecutDeadlineError } from './problem-error.js';
import { LivecutProblemError } from './problem-error.js';
import type { components } from '../types/openapi.js';
import type { operations } from '../types/openapi.js';
import type { Backoff } from './retry-wait.js';
export { LivecutDeadlineError, LivecutProblemError };
