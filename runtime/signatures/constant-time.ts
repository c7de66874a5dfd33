/** @module Constant-time comparison of signatures and tokens, safe for inputs of different lengths. */
import { timingSafeEqual } from 'node:crypto'

function bytesOf(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}

/** True when both hold the same bytes; never throws, and takes the same time for any two inputs of one length. */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const left = bytesOf(a)
  const right = bytesOf(b)
  if (left.length !== right.length) {
    // Still spend one comparison, so a length mismatch is not much faster than a byte mismatch.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
