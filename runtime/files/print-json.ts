/**
 * @module JSON with a 2-space indent, as `JSON.stringify(value, null, 2)` writes it, except that chosen small
 * objects are kept on one line (`{ "x": 0, "y": 200 }`). `JSON.parse` of the text gives the same value. Browser-safe.
 */

/** A key or index on the way from the root to a value. */
export type JsonPath = ReadonlyArray<string | number>

/** Says which objects go on one line; only objects whose values are all primitives are ever inlined. */
export type InlineRule = (path: JsonPath) => boolean

const INDENT = '  '

export function printJson(value: unknown, inline: InlineRule = () => false): string {
  return print(value, [], '', inline) ?? 'null'
}

function print(value: unknown, path: JsonPath, indent: string, inline: InlineRule): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const inner = indent + INDENT
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    // Like JSON.stringify: an item that has no JSON form (undefined, a function) is written as null.
    const items = value.map((item, index) => print(item, [...path, index], inner, inline) ?? 'null')
    return `[\n${items.map((item) => inner + item).join(',\n')}\n${indent}]`
  }
  const entries: string[] = []
  for (const [key, item] of Object.entries(value)) {
    const text = print(item, [...path, key], inner, inline)
    if (text !== undefined) entries.push(`${JSON.stringify(key)}: ${text}`)
  }
  if (entries.length === 0) return '{}'
  if (inline(path) && Object.values(value).every((item) => item === null || typeof item !== 'object')) {
    return `{ ${entries.join(', ')} }`
  }
  return `{\n${entries.map((entry) => inner + entry).join(',\n')}\n${indent}}`
}
