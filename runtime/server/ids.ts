/** @module Identifiers: time-ordered event ids and request ids. */
import { randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
/** Random bytes drawn in blocks: one system call per few hundred ids instead of one per id. */
const pool = Buffer.alloc(4096)
let poolAt = pool.length

function randomChars(count: number): string {
  if (poolAt + count > pool.length) {
    randomFillSync(pool)
    poolAt = 0
  }
  let out = ''
  for (let i = 0; i < count; i++) out += ALPHABET[(pool[poolAt++] as number) % 62]
  return out
}

let lastMs = 0
let sequence = 0

/**
 * `evt_` + 9 base-36 digits of milliseconds + 3 of a per-process sequence + 10 random characters:
 * ids sort in the order this process made them, and never collide across processes.
 */
export function newEventId(nowMs = Date.now()): string {
  if (nowMs === lastMs) sequence++
  else {
    lastMs = nowMs
    sequence = 0
  }
  const time = nowMs.toString(36).padStart(9, '0')
  const seq = (sequence % 46_656).toString(36).padStart(3, '0')
  return `evt_${time}${seq}${randomChars(10)}`
}

export function newRequestId(): string {
  return `req_${randomChars(14)}`
}
