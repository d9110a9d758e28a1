// Checked by `npm run typecheck` (tsc), never run: each `@ts-expect-error` line must be a type
// error, so a client type that accepted the typo would fail the check. test/client/types.test.ts
// also compiles this file without those markers and expects the errors.
import { createLivecutClient } from '@livecut/client'

const client = createLivecutClient({ baseUrl: 'https://livecut.internal', token: async () => 'token' })

// The body's documented fields compile.
void client.stopAndCut('proj-1', 'live-1', { startMs: 600000, endMs: 900000, visibility: 'public' })
void client.stopAndCut('proj-1', 'live-1', { startTime: '2024-01-01T12:00:00Z', endTime: '2024-01-01T12:15:00Z' })
void client.stopAndCut('proj-1', 'live-1', {})

// @ts-expect-error a typo of startMs is not a field of the cut body
void client.stopAndCut('proj-1', 'live-1', { startMS: 600000, endMs: 900000 })
// @ts-expect-error visibility is one of the names the service documents
void client.stopAndCut('proj-1', 'live-1', { visibility: 'secret' })
// @ts-expect-error milliseconds are numbers
void client.stopAndCut('proj-1', 'live-1', { startMs: '600000', endMs: 900000 })

// A resolution: what the person found, and the VOD if there is one.
void client.resolveAuditEvent('entry-1', { outcome: 'succeeded', note: 'The platform lists the VOD.', videoPublicId: 'vod-1' })
void client.resolveAuditEvent('entry-1', { outcome: 'failed', note: 'No VOD; the live video still runs.' })

// @ts-expect-error a resolution says what happened: unknown is what it resolves
void client.resolveAuditEvent('entry-1', { outcome: 'unknown', note: 'Could not tell.' })
// @ts-expect-error the note of what was checked is required
void client.resolveAuditEvent('entry-1', { outcome: 'failed' })
// @ts-expect-error the resolver comes from the token, not the body
void client.resolveAuditEvent('entry-1', { outcome: 'failed', note: 'No VOD.', by: 'mallory' })
