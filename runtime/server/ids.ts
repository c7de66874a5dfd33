/** @module Identifiers: time-ordered event ids and request ids. */
import { randomBytes } from 'node:crypto'

/** `evt_` + 9 base-36 digits of milliseconds + 12 random characters: sorts by time, unique across processes. */
export function newEventId(nowMs = Date.now()): string {
  return `evt_${nowMs.toString(36).padStart(9, '0')}${randomBytes(9).toString('base64url').slice(0, 12)}`
}

export function newRequestId(): string {
  return `req_${randomBytes(9).toString('base64url')}`
}
