import { readFileSync } from 'node:fs'
import t from 'tap'
import { withProblemTable } from '../src/problems/problem-table.ts'
import { PROBLEM_TYPES } from '../src/problems/problem-types.ts'

t.test('the README error table is the one generated from the problem types (npm run docs:errors)', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  t.equal(readme, withProblemTable(readme))
  for (const code of Object.keys(PROBLEM_TYPES)) t.ok(readme.includes(`| \`${code}\` |`), `${code} is documented`)
})
