/** @module Canonical flow files: stable key order, 2-space indent, trailing newline. Browser-safe. */

/** Keys that read best in this order; any other key follows, alphabetically. */
const PREFERRED_ORDER = [
  'schemaVersion',
  'id',
  'version',
  'kind',
  'name',
  'description',
  'trigger',
  'path',
  'respond',
  'maxBodyBytes',
  'rateLimit',
  'retention',
  'from',
  'port',
  'to',
  'config',
  'position',
  'nodes',
  'edges',
]
const RANK = new Map(PREFERRED_ORDER.map((key, index) => [key, index]))

function compareKeys(a: string, b: string): number {
  const ra = RANK.get(a) ?? Number.POSITIVE_INFINITY
  const rb = RANK.get(b) ?? Number.POSITIVE_INFINITY
  if (ra !== rb) return ra - rb
  return a < b ? -1 : a > b ? 1 : 0
}

/** Orders object keys recursively; arrays keep their order (node and edge order is the user's). */
export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort(compareKeys)) {
    const item = (value as Record<string, unknown>)[key]
    if (item !== undefined) out[key] = canonicalize(item)
  }
  return out
}

export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`
}
