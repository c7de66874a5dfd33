/** @module Dedupe claims taken by requests still in flight in this process, until their commit lands. */
import type { ClaimResult } from '../model/node-kind.ts'
import type { Store } from '../store/store.ts'

export class PendingClaims {
  private readonly held = new Map<string, string>()

  constructor(private readonly store: Store) {}

  /**
   * Check-and-reserve in one synchronous step, then ask the store: two requests of one key in this
   * process never both pass, and the store's unique key settles races between processes at commit.
   */
  async claim(scope: string, key: string, eventId: string, now: Date): Promise<ClaimResult> {
    const id = `${scope}\u0000${key}`
    const holder = this.held.get(id)
    if (holder !== undefined) return { claimed: false, firstEventId: holder }
    this.held.set(id, eventId)
    const stored = await this.store.findClaim(scope, key, now)
    if (stored !== undefined && stored !== eventId) {
      this.held.delete(id)
      return { claimed: false, firstEventId: stored }
    }
    return { claimed: true }
  }

  /** After the commit (or a refusal): the store holds the claim now, or nobody does. */
  release(claims: ReadonlyArray<{ scope: string; key: string }>): void {
    for (const claim of claims) this.held.delete(`${claim.scope}\u0000${claim.key}`)
  }
}
