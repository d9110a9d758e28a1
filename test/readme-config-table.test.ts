import { readFileSync } from 'node:fs'
import t from 'tap'
import { withConfigTable } from '../src/config/config-table.ts'

t.test('the README configuration table is the one generated from the env schema (npm run docs:config)', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  t.equal(readme, withConfigTable(readme))
})
