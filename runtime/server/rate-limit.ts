/** @module A token bucket per flow: `perSecond` tokens refill continuously up to `burst`. */
import type { RateLimit } from '../model/types.ts'

export class TokenBucket {
  private tokens: number
  private updatedMs: number
  constructor(
    private readonly limit: Required<RateLimit>,
    nowMs: number,
  ) {
    this.tokens = limit.burst
    this.updatedMs = nowMs
  }

  /** Takes a token; when none is left, says how long until one is back. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterSec: number } {
    const elapsedSec = Math.max(0, nowMs - this.updatedMs) / 1000
    this.tokens = Math.min(this.limit.burst, this.tokens + elapsedSec * this.limit.perSecond)
    this.updatedMs = nowMs
    if (this.tokens >= 1) {
      this.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - this.tokens) / this.limit.perSecond)) }
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, { bucket: TokenBucket; limit: RateLimit }>()

  take(flowId: string, limit: RateLimit | undefined, nowMs: number) {
    if (!limit) return { ok: true } as const
    let entry = this.buckets.get(flowId)
    if (!entry || entry.limit !== limit) {
      const burst = limit.burst ?? Math.max(1, Math.ceil(limit.perSecond))
      entry = { bucket: new TokenBucket({ perSecond: limit.perSecond, burst }, nowMs), limit }
      this.buckets.set(flowId, entry)
    }
    return entry.bucket.take(nowMs)
  }
}
