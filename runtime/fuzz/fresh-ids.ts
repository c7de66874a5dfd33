/** @module Fresh ids for a payload, so that each fuzz variant is a distinct event that dedupe does not hide. */
import { copyJson } from './json-paths.ts'
import type { SeededRandom } from './seeded-random.ts'

/** Field names that hold an identity: `id`, `task_id`, `jobId`, `eventID`, `uuid`. */
const ID_FIELD = /^(id|uuid|.*[_-]id|.*[a-z]Id|.*ID)$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function freshId(old: string, random: SeededRandom): string {
  if (UUID.test(old)) return random.uuid()
  const prefix = /^[A-Za-z]+_/.exec(old)?.[0] ?? ''
  return `${prefix}${random.hex(12)}`
}

function refresh(value: unknown, random: SeededRandom): void {
  if (typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    for (const item of value) refresh(item, random)
    return
  }
  const record = value as Record<string, unknown>
  for (const [key, child] of Object.entries(record)) {
    if (typeof child === 'string' && child !== '' && ID_FIELD.test(key)) record[key] = freshId(child, random)
    else refresh(child, random)
  }
}

/** A copy of `payload` whose id-like string fields have new values in the style of the old ones. */
export function withFreshIds(payload: unknown, random: SeededRandom): unknown {
  const copy = copyJson(payload)
  refresh(copy, random)
  return copy
}
