/** @module Identifiers the stores make themselves: audit entries, ordered as they were written. */
import { randomBytes } from 'node:crypto'

const COUNTER_SPAN = 36 ** 6
let counter = 0

/**
 * `aud_` + 9 base-36 digits of the entry's time + 6 of a per-process counter + 8 random hex digits. Lists
 * order entries by (time, id): two entries of the same millisecond keep the order this process wrote them
 * (the SQLite writer is one thread, so that is commit order), and ids never collide across processes.
 */
export function newAuditId(atMs: number): string {
  counter = (counter + 1) % COUNTER_SPAN
  const time = Math.max(0, Math.floor(atMs)).toString(36).padStart(9, '0')
  return `aud_${time}${counter.toString(36).padStart(6, '0')}${randomBytes(4).toString('hex')}`
}
