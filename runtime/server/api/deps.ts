/** @module What the admin API handlers reach: the store, the deployed flows, and the runtime's services. */
import type { FlowRegistry } from '../../deploy/flow-registry.ts'
import type { SchemaSource } from '../../engine/compile.ts'
import type { EngineServices } from '../../engine/types.ts'
import type { NodeKind } from '../../model/node-kind.ts'
import type { SecretVault } from '../../secrets/secret-vault.ts'
import type { Store } from '../../store/store.ts'
import type { EventBus } from '../event-bus.ts'
import type { Logger } from '../logger.ts'
import type { RuntimeMetrics } from '../metrics.ts'
import type { RecentFigures } from '../recent-figures.ts'

export interface ApiDeps {
  store: Store
  registry: FlowRegistry
  kinds: ReadonlyMap<string, NodeKind>
  schemas: SchemaSource
  /** The services workers use (real fetch): real replays go through the queue, previews never fetch. */
  services: EngineServices
  vault: SecretVault
  bus: EventBus
  figures: RecentFigures
  metrics: RuntimeMetrics
  logger: Logger
  now(): number
  /** New work was queued (replay): wake the workers. */
  onQueued(): void
  /** An open event this old (ms) is unreconciled; DEFAULT_RECONCILE_AFTER_MS when absent. */
  reconcileAfterMs?: number
}
