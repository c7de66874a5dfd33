/**
 * @module `mapper send --replay-from`: production payloads anonymised by a flow's `retention.redact` paths.
 * Each listed value becomes a placeholder of the same JSON type, derived from the value with a keyed hash:
 * within one key the same value always gives the same placeholder (joins and dedupe keys still line up),
 * and without the key the original cannot be guessed back from it.
 */
import { createHmac } from 'node:crypto'
import { parseRedactPath } from '../engine/redact.ts'

const EMAIL = /^[^@\s]+@[^@\s]+$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T/

export interface Anonymiser {
  /** A copy of the payload with every listed path's value replaced; `count` says how many were. */
  anonymise(payload: unknown, paths: readonly string[]): { payload: unknown; count: number }
}

/** The placeholder for one value: same JSON type, same shape for emails, UUIDs and timestamps. */
export function placeholder(value: unknown, key: string): unknown {
  if (value === null) return null
  if (Array.isArray(value)) return value.map((item) => placeholder(item, key))
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholder(v, key)]))
  }
  const digest = createHmac('sha256', key).update(JSON.stringify(value)).digest('hex')
  if (typeof value === 'boolean') return Number.parseInt(digest.slice(0, 2), 16) % 2 === 0
  if (typeof value === 'number') {
    const n = Number.parseInt(digest.slice(0, 12), 16)
    if (Number.isInteger(value))
      return (value < 0 ? -1 : 1) * (n % 10 ** Math.max(1, String(Math.trunc(Math.abs(value))).length))
    return Math.round((n % 1_000_000) / 100) / 100
  }
  const text = String(value)
  if (UUID.test(text))
    return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-4${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`
  if (EMAIL.test(text)) return `anon-${digest.slice(0, 10)}@example.invalid`
  if (DATE_TIME.test(text))
    return new Date(Date.UTC(2000, 0, 1) + (Number.parseInt(digest.slice(0, 8), 16) % 31_536_000) * 1000).toISOString()
  return `anon-${digest.slice(0, 10)}`
}

function replaceAt(target: unknown, segments: readonly string[], key: string): number {
  if (target === null || typeof target !== 'object' || segments.length === 0) return 0
  const [head, ...rest] = segments as [string, ...string[]]
  const container = target as Record<string, unknown>
  const keys = head === '*' ? Object.keys(container) : [head]
  let count = 0
  for (const k of keys) {
    if (!Object.hasOwn(container, k)) continue
    if (rest.length === 0) {
      container[k] = placeholder(container[k], key)
      count++
    } else count += replaceAt(container[k], rest, key)
  }
  return count
}

/** Anonymises with `key` (any text; one per run unless given, so placeholders cannot be matched across runs). */
export function createAnonymiser(key: string): Anonymiser {
  return {
    anonymise(payload, paths) {
      if (paths.length === 0 || payload === null || typeof payload !== 'object') return { payload, count: 0 }
      const copy = structuredClone(payload)
      let count = 0
      for (const path of paths) count += replaceAt(copy, parseRedactPath(path), key)
      return { payload: copy, count }
    },
  }
}
