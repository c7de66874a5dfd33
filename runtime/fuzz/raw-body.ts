/**
 * @module Bodies that JSON.stringify cannot make: a value at one path replaced by raw text or raw bytes
 * (invalid UTF-8, nesting deeper than the serializer's stack, a string of an exact size).
 */
import { type JsonPath, withValueAt } from './json-paths.ts'

const encoder = new TextEncoder()

export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** A placeholder no payload contains: its quoted form is found once in the serialized body and replaced. */
const MARKER = '\u0001mapper-fuzz-marker\u0001'
const QUOTED_MARKER = JSON.stringify(MARKER)

/** The parts of the serialized body before and after the value at `path`. */
export function bodyAround(value: unknown, path: JsonPath): { before: string; after: string } {
  const text = JSON.stringify(withValueAt(value, path, MARKER))
  const at = text.indexOf(QUOTED_MARKER)
  if (at < 0) throw new Error('the marker was not serialized')
  return { before: text.slice(0, at), after: text.slice(at + QUOTED_MARKER.length) }
}

/** The body of `value` with the JSON at `path` written as `raw` (text or bytes, taken as they are). */
export function spliceRaw(value: unknown, path: JsonPath, raw: string | Uint8Array): Uint8Array {
  const { before, after } = bodyAround(value, path)
  return concatBytes([utf8(before), typeof raw === 'string' ? utf8(raw) : raw, utf8(after)])
}

/** Text nested `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}`, built as text (no stack needed). */
export function nestedText(depth: number, container: 'array' | 'object'): string {
  if (container === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`
  return `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`
}

/** The length of `nestedText(depth, container)`, without building it. */
export function nestedLength(depth: number, container: 'array' | 'object'): number {
  return container === 'array' ? 2 * depth : 6 * depth + 2
}
