/** @module Rejects a signature timestamp too far in the past (a replay) or in the future (a skewed clock). */
import type { SignatureVerdict } from '../model/node-kind.ts'

type Failure = Extract<SignatureVerdict, { ok: false }>

/** A failure when `timestampSec` is more than `toleranceSec` away from `nowSec`, in either direction. */
export function checkTimestamp(timestampSec: number, nowSec: number, toleranceSec: number): Failure | undefined {
  const age = nowSec - timestampSec
  if (age > toleranceSec) {
    return {
      ok: false,
      code: 'stale_timestamp',
      reason: `the signature timestamp is ${age} s old, beyond the ${toleranceSec} s tolerance`,
      timestamp: timestampSec,
    }
  }
  if (-age > toleranceSec) {
    return {
      ok: false,
      code: 'future_timestamp',
      reason: `the signature timestamp is ${-age} s in the future, beyond the ${toleranceSec} s tolerance`,
      timestamp: timestampSec,
    }
  }
  return undefined
}
