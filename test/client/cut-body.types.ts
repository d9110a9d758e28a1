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
