/** @module Dedupe claims taken by requests in flight in this process, and the ones it committed lately. */
import type { ClaimResult } from '../model/node-kind.ts'
import type { Store } from '../store/store.ts'

/** How many committed claims this process remembers, so that a sender's retries skip the store read. */
const RECENT_CLAIMS = 50_000

export class PendingClaims {
  private readonly held = new Map<string, string>()
  private readonly recent = new Map<string, { eventId: string; expiresMs: number }>()

  constructor(private readonly store: Store) {}

  /**
   * Check-and-reserve in one synchronous step, then ask the store: two requests of one key in this
   * process never both pass, and the store's unique key settles races between processes at commit.
   */
  async claim(scope: string, key: string, eventId: string, now: Date): Promise<ClaimResult> {
    const id = `${scope}\u0000${key}`
    const holder = this.held.get(id)
    if (holder !== undefined) return { claimed: false, firstEventId: holder }
    const known = this.recent.get(id)
    if (known && known.expiresMs > now.getTime()) return { claimed: false, firstEventId: known.eventId }
    this.held.set(id, eventId)
    const stored = await this.store.findClaim(scope, key, now)
    if (stored !== undefined && stored !== eventId) {
      this.held.delete(id)
      return { claimed: false, firstEventId: stored }
    }
    return { claimed: true }
  }

  /** After the commit: the store holds these claims now (`committedBy` set), or nobody does. */
  release(claims: ReadonlyArray<{ scope: string; key: string; expiresAt: string }>, committedBy?: string): void {
    for (const claim of claims) {
      const id = `${claim.scope}\u0000${claim.key}`
      this.held.delete(id)
      if (committedBy === undefined) continue
      if (this.recent.size >= RECENT_CLAIMS) this.recent.delete(this.recent.keys().next().value as string)
      this.recent.set(id, { eventId: committedBy, expiresMs: Date.parse(claim.expiresAt) })
    }
  }
}
