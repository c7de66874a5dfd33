/** @module Field-path strings used by lineage: `data.x`, `items[].sku`, `` $headers.`user-agent` ``, `$`. Browser-safe. */

/** The whole input (or, on the output side, the whole output). */
export const ROOT = '$'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** One field name as a path segment: backticked unless it is a simple identifier. */
export function segment(name: string): string {
  return IDENTIFIER.test(name) ? name : `\`${name}\``
}

/** Appends an already-encoded segment (a field, `*` or `**`) to a path. */
export function join(base: string, encoded: string): string {
  return base === ROOT ? encoded : `${base}.${encoded}`
}

/** The path of one item of the array at `path`: `items` → `items[]`. */
export function iterated(path: string): string {
  return path.endsWith('[]') ? path : `${path}[]`
}

/** Splits a path on the dots that are outside backticks; `[]` stays on its segment. */
export function splitPath(path: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (const char of path) {
    if (char === '`') quoted = !quoted
    if (char === '.' && !quoted) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts
}

/** True for paths rooted at a variable such as `$headers.x` or `$event.id` rather than at the input. */
export function isVariablePath(path: string): boolean {
  const first = splitPath(path)[0] ?? ''
  return first.startsWith('$') && first !== ROOT && first !== `${ROOT}[]`
}

/** The object that holds the field at `path`; undefined above the root or a variable. */
export function parentPath(path: string): string | undefined {
  const parts = splitPath(path)
  if (parts.length > 1) return parts.slice(0, -1).join('.')
  const only = parts[0] ?? ''
  return only.startsWith('$') ? undefined : ROOT
}

/** The segments of a path with `[]` dropped and the input root left out (`$` → [], `items[].sku` → [items, sku]). */
export function pathKey(path: string): string[] {
  const parts = splitPath(path).map((part) => (part.endsWith('[]') ? part.slice(0, -2) : part))
  return parts[0] === ROOT ? parts.slice(1) : parts
}
