import { createPublicKey } from 'node:crypto'
import t from 'tap'
import { verifyTrail } from '../../src/audit/verification/trail-verification.ts'
import { BACKENDS } from '../helpers/audit-fixtures.ts'
import { type Checkpoint, SIGNING_KEY } from '../helpers/checkpoints.ts'
import { keptTrail } from '../helpers/incremental-trail.ts'

// The entries open across an incremental run's anchor are searched for a range of later records
// at a time (one statement over all of them outlasts PostgreSQL's statement timeout on a long
// trail). In chunks of one record, entry 5 (intent 3, final 6) is found only in the second range
// after the anchor at 4: the walk must still start at its intent.

for (const backend of BACKENDS) {
  t.test(`${backend}: spanning entries are found in every range after the anchor`, async (t) => {
    const { trail, at } = await keptTrail(t, backend)
    const anchor = at.get(4) as Checkpoint
    const options = { publicKeys: [createPublicKey(SIGNING_KEY)], requireKnownKey: true, anchor }
    for (const chunkRecords of [1, 2, 10_000]) {
      const result = await verifyTrail({ url: trail.url, background: true, chunkRecords }, options)
      t.match(result, { ok: true, checked: 8 }, `chunks of ${chunkRecords}: records 3–10 walked, from entry 5's intent`)
    }
  })
}
