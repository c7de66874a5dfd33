/** @module Identifiers: time-ordered event ids and request ids. */
import { randomBytes } from 'node:crypto'

let lastMs = 0
let sequence = 0

/**
 * `evt_` + 9 base-36 digits of milliseconds + 3 of a per-process sequence + 9 random characters:
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
  return `evt_${time}${seq}${randomBytes(7).toString('base64url').slice(0, 9)}`
}

export function newRequestId(): string {
  return `req_${randomBytes(9).toString('base64url')}`
}
