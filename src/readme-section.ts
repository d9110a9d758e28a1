import { readFileSync, writeFileSync } from 'node:fs'

/** `readme` with the text between the `start` and `end` markers replaced by `body`. */
export function withReadmeSection (readme: string, start: string, end: string, body: string): string {
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from === -1 || to < from) throw new Error(`README.md has no ${start} … ${end} markers`)
  return `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`
}

/** Rewrites the repository's README.md through `transform` (the docs:* scripts). */
export function rewriteReadme (transform: (readme: string) => string): void {
  const path = new URL('../README.md', import.meta.url)
  writeFileSync(path, transform(readFileSync(path, 'utf8')))
}
