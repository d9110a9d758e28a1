// Generated from openapi.yaml by `npm run console:types`: do not edit. The console's JSDoc types read it.
export interface paths {
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["liveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the audit store takes writes and Redis (when configured) answers */
        get: operations["readiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/projects/{projectId}/live-videos/{videoId}/cut": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop a live video and cut it (or a range of it) into a VOD
         * @description Cannot be undone. Send an Idempotency-Key to make client retries safe: the same key, subject, path and body within 24 h replay the first answer with Idempotent-Replayed: true.
         */
        post: operations["stopAndCutLiveVideo"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Audit entries, newest first; Accept: application/x-ndjson or text/csv streams every match */
        get: operations["listAuditEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/events/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One audit entry */
        get: operations["getAuditEvent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Verify the hash chain of the whole trail */
        get: operations["verifyAuditTrail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Problem */
        Problem: {
            /**
             * @description urn:livecut:problem:<code>; the code is also the audit reason
             * @example urn:livecut:problem:validation
             */
            type: string;
            title: string;
            status: number;
            detail: string;
            requestId: string;
            errors?: {
                /**
                 * @description JSON pointer into the part named by `in`
                 * @example /startMs
                 */
                field: string;
                in: "body" | "path" | "header" | "query";
                message: string;
            }[];
            /** @description what the platform said, on 422 */
            upstreamErrors?: unknown[];
        };
        /** AuditEntry */
        AuditEntry: {
            id: string;
            requestId: string;
            /** @description when the request arrived, ISO 8601 UTC */
            time: string;
            actor: {
                sub: string | null;
                clientId: string | null;
                ip: string;
                userAgent: string | null;
            };
            /** @enum {string} */
            action: "live-video.stop-and-cut";
            projectId: string | null;
            videoId: string | null;
            request: {
                cut: {
                    startMs: number | null;
                    endMs: number | null;
                    startTime: string | null;
                    endTime: string | null;
                } | null;
                visibility: string | null;
                idempotencyKey: string | null;
            };
            outcome: "succeeded" | "rejected" | "failed" | "unknown";
            status: number | null;
            reason: string | null;
            upstream: {
                attempts: number;
                statuses: number[];
                latencyMs: number | null;
            } | null;
            videoPublicId: string | null;
            durationMs: number | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    liveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                    };
                };
            };
        };
    };
    readiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                    };
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        reason: string;
                    };
                };
            };
        };
    };
    stopAndCutLiveVideo: {
        parameters: {
            query?: never;
            header?: {
                /** @description replays the first final response for 24 h instead of cutting again */
                "idempotency-key"?: string;
            };
            path: {
                /** @example proj_42 */
                projectId: string;
                /** @example proj_42 */
                videoId: string;
            };
            cookie?: never;
        };
        /** @description Either startMs/endMs, or startTime/endTime, or neither (the whole stream). */
        requestBody: {
            content: {
                "application/json": {
                    /** @description start of the range on the video timeline; with endMs */
                    startMs?: number;
                    /** @description end of the range, after startMs */
                    endMs?: number;
                    /**
                     * Format: date-time
                     * @description wall-clock start of the range; with endTime
                     * @example 2024-01-01T12:00:00Z
                     */
                    startTime?: string;
                    /**
                     * Format: date-time
                     * @description wall-clock end, after startTime, at most 60 s from now
                     * @example 2024-01-01T12:00:00Z
                     */
                    endTime?: string;
                    /**
                     * @description VOD visibility (VISIBILITY_OPTIONS); DEFAULT_VISIBILITY when absent
                     * @enum {string}
                     */
                    visibility?: "public" | "private" | "unlisted";
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description the VOD the platform created */
                        videoPublicId: string;
                        requestId: string;
                        /** @description id of this request's audit entry */
                        auditId: string;
                    };
                };
            };
            /** @description Problem details (RFC 9457) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAuditEvents: {
        parameters: {
            query: {
                /** @example proj_42 */
                projectId?: string;
                /** @example proj_42 */
                videoId?: string;
                /** @description actor subject (`sub`) */
                actor?: string;
                outcome?: "succeeded" | "rejected" | "failed" | "unknown";
                /**
                 * @description entries at or after this time
                 * @example 2024-01-01T12:00:00Z
                 */
                since?: string;
                /**
                 * @description entries before this time
                 * @example 2024-01-01T12:00:00Z
                 */
                until?: string;
                limit: number;
                /** @description `nextCursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries (JSON), or every match (NDJSON, CSV) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["AuditEntry"][];
                        nextCursor: string | null;
                    };
                    "application/x-ndjson": string;
                    "text/csv": string;
                };
            };
            /** @description Problem details (RFC 9457) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAuditEvent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditEntry"];
                };
            };
            /** @description Problem details (RFC 9457) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    verifyAuditTrail: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        ok: boolean;
                        /** @description records checked along the chain */
                        checked: number;
                        firstBad?: {
                            seq: number;
                            /** @description null when the entry is outside the caller's projects */
                            entryId: string | null;
                            problem: string;
                        };
                    };
                };
            };
            /** @description Problem details (RFC 9457) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem details (RFC 9457) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
