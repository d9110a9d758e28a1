/** Whether `text` quotes any line of `key` (a PEM or any other key text); the PEM armour lines are no secret and do not count. */
export function quotesKey (text: string, key: string): boolean {
  const lines = key.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'))
  if (lines.length === 0) throw new Error('the key has no text of its own to look for')
  return lines.some((line) => text.includes(line))
}
