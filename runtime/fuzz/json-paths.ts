/** @module Paths into a JSON value: listing them, reading and copying with a change at one, and JSON Pointers. */

export type PathSegment = string | number
export type JsonPath = readonly PathSegment[]

/** `['data', 'jobId']` → `/data/jobId` (RFC 6901; the root is the empty string). */
export function toPointer(path: JsonPath): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/** Every path below the root, parents before children, in key order. */
export function listPaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (!isContainer(value)) return []
  const entries: Array<[PathSegment, unknown]> = Array.isArray(value)
    ? value.map((child, index) => [index, child])
    : Object.entries(value)
  return entries.flatMap(([key, child]) => {
    const path = [...prefix, key]
    return [path, ...listPaths(child, path)]
  })
}

/** The paths of every object (the root included, as `[]`): where an extra field can go. */
export function objectPaths(value: unknown): JsonPath[] {
  const all = [[] as JsonPath, ...listPaths(value)]
  return all.filter((path) => {
    const found = getAt(value, path)
    return isContainer(found) && !Array.isArray(found)
  })
}

export function getAt(value: unknown, path: JsonPath): unknown {
  let current: unknown = value
  for (const segment of path) {
    if (!isContainer(current)) return undefined
    current = (current as Record<string, unknown>)[segment as string]
  }
  return current
}

/** A deep copy of a JSON value (its own JSON round trip: the values fuzzing starts from are plain JSON). */
export function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** A copy of `value` with `replacement` at `path` (the root when the path is empty). */
export function withValueAt(value: unknown, path: JsonPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement
  const copy = copyJson(value)
  const parent = getAt(copy, path.slice(0, -1))
  if (!isContainer(parent)) throw new Error(`no container at ${toPointer(path.slice(0, -1))}`)
  ;(parent as Record<string, unknown>)[path.at(-1) as string] = replacement
  return copy
}

/** A copy of `value` without what is at `path` (an array item is taken out, not left as a hole). */
export function withoutAt(value: unknown, path: JsonPath): unknown {
  if (path.length === 0) return undefined
  const copy = copyJson(value)
  const parent = getAt(copy, path.slice(0, -1))
  const last = path.at(-1) as PathSegment
  if (Array.isArray(parent)) parent.splice(Number(last), 1)
  else if (isContainer(parent)) delete (parent as Record<string, unknown>)[last as string]
  return copy
}

/** The JSON type a value has, as JSON Schema names it. */
export function jsonType(value: unknown): 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object' {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value as 'boolean' | 'string' | 'object'
}
