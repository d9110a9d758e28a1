/**
 * One signal for an operation that ends at the caller's abort or at its deadline, whichever
 * comes first. Written out rather than AbortSignal.any/timeout, which React Native lacks.
 */
export class Deadline {
    /**
     * @param {number} ms
     * @param {AbortSignal | undefined} callerSignal
     */
    constructor(ms: number, callerSignal: AbortSignal | undefined);
    endsAt: number;
    callerSignal: AbortSignal | undefined;
    controller: AbortController;
    expired: boolean;
    onCallerAbort: () => void;
    timer: number;
    /** Aborted by the caller or by the deadline. */
    get signal(): AbortSignal;
    remainingMs(): number;
    /**
     * Waits `ms`, or rejects when the signal aborts first.
     * @param {number} ms
     * @returns {Promise<void>}
     */
    sleep(ms: number): Promise<void>;
    clear(): void;
}
