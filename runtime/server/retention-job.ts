/** @module Raw payload retention: bodies older than a flow's rawPayloadDays are removed; expired claims too. */
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import { DEFAULT_RAW_PAYLOAD_DAYS } from '../model/types.ts'
import type { Store } from '../store/store.ts'
import type { Logger } from './logger.ts'

const RETENTION_INTERVAL_MS = 60 * 60 * 1000
const DAY_MS = 24 * 60 * 60 * 1000

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: Store,
    private readonly registry: FlowRegistry,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  start(): void {
    void this.runOnce()
    this.timer = setInterval(() => void this.runOnce(), RETENTION_INTERVAL_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  async runOnce(): Promise<{ bodies: number; claims: number }> {
    let bodies = 0
    let claims = 0
    try {
      for (const flow of this.registry.deployed()) {
        const days = flow.doc.retention?.rawPayloadDays ?? DEFAULT_RAW_PAYLOAD_DAYS
        bodies += await this.store.purgeRawPayloads(flow.doc.id, new Date(this.now() - days * DAY_MS))
      }
      claims = await this.store.purgeExpiredClaims(new Date(this.now()))
      if (bodies + claims > 0) this.logger.info({ bodies, claims }, 'retention removed raw payloads and expired claims')
    } catch (err) {
      this.logger.error({ err }, 'retention run failed')
    }
    return { bodies, claims }
  }
}
