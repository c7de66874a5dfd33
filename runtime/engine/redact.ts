/** @module Redaction of the fields a flow lists in retention.redact (`$.data.email`, `$.items[*].card`). Browser-safe. */

export const REDACTED = '[redacted]'

/** `$.items[*].card` → ['items', '*', 'card']. */
export function parseRedactPath(path: string): string[] {
  return path
    .replace(/^\$\.?/, '')
    .replace(/\[(\*|\d+)\]/g, '.$1')
    .split('.')
    .filter((segment) => segment !== '')
}

/** A copy of `value` with every listed path replaced by "[redacted]"; the value itself is not touched. */
export function redact(value: unknown, paths: readonly string[] | undefined): unknown {
  if (!paths || paths.length === 0 || value === null || typeof value !== 'object') return value
  const copy = structuredClone(value)
  for (const path of paths) redactSegments(copy, parseRedactPath(path))
  return copy
}

function redactSegments(target: unknown, segments: string[]): void {
  if (target === null || typeof target !== 'object' || segments.length === 0) return
  const [head, ...rest] = segments as [string, ...string[]]
  const container = target as Record<string, unknown>
  const keys = head === '*' ? Object.keys(container) : [head]
  for (const key of keys) {
    if (!(key in container)) continue
    if (rest.length === 0) container[key] = REDACTED
    else redactSegments(container[key], rest)
  }
}
