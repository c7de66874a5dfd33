/**
 * @module The runtime's secret store: values set through the API or CLI, encrypted at rest, with rotation
 * overlaps; environment variables (NAME, NAME_PREVIOUS) still resolve for names the store does not hold.
 *
 * Nodes read secrets synchronously on the webhook path, so the vault keeps the decrypted values in memory
 * and refreshes them from the store (a rotation made by another process shows within REFRESH_MS).
 */

import { fingerprint } from '../signatures/fingerprint.ts'
import type { SecretSummary, Store } from '../store/store.ts'
import { cachedEnvSecrets } from './env-secrets.ts'
import { SECRET_KEY_ENV, type SecretCipher } from './secret-cipher.ts'

const REFRESH_MS = 5_000

interface Held {
  value: string
  validUntilMs: number | null
}

export class SecretVault {
  private held = new Map<string, Held[]>()
  private timer: NodeJS.Timeout | undefined
  private readonly fromEnv: (name: string) => string[]

  constructor(
    private readonly store: Store,
    private readonly cipher: SecretCipher,
    private readonly now: () => number,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.fromEnv = cachedEnvSecrets(env)
  }

  /** Every valid value of a secret, the newest first: the store's, else the environment's. */
  values(name: string): string[] {
    const held = this.held.get(name)
    if (!held || held.length === 0) return this.fromEnv(name)
    const nowMs = this.now()
    return held.filter((h) => h.validUntilMs === null || h.validUntilMs > nowMs).map((h) => h.value)
  }

  async set(name: string, value: string, overlapSec: number, by: string | null): Promise<SecretSummary> {
    const summary = await this.store.putSecret({
      name,
      ciphertext: this.cipher.encrypt(value),
      fingerprint: fingerprint(value),
      overlapSec,
      by,
    })
    await this.refreshOne(name)
    return summary
  }

  async refresh(): Promise<void> {
    const now = new Date(this.now())
    const next = new Map<string, Held[]>()
    for (const summary of await this.store.listSecrets(now)) next.set(summary.name, await this.load(summary.name, now))
    this.held = next
  }

  start(): void {
    this.timer = setInterval(() => {
      this.refresh().catch(() => undefined)
    }, REFRESH_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async refreshOne(name: string): Promise<void> {
    this.held.set(name, await this.load(name, new Date(this.now())))
  }

  private async load(name: string, now: Date): Promise<Held[]> {
    const stored = await this.store.secretValues(name, now)
    return stored.map((s) => ({
      value: this.decrypt(name, s.ciphertext),
      validUntilMs: s.validUntil === null ? null : Date.parse(s.validUntil),
    }))
  }

  private decrypt(name: string, ciphertext: string): string {
    try {
      return this.cipher.decrypt(ciphertext)
    } catch {
      throw new Error(
        `secret ${name}: the stored value cannot be decrypted with this process's key — every runtime on one ` +
          `store needs the same ${SECRET_KEY_ENV} (or the data directory's secret.key it was set with)`,
      )
    }
  }
}
