/** @module The reconciliation threshold, and the per-flow count of unreconciled events behind its gauge. */
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import type { Store } from '../store/store.ts'

/**
 * An event accepted this long ago (ms) with no terminal state is unreconciled: listed by `mapper reconcile`
 * and counted by `mapper_unreconciled_events`. Keep it above a flow's longest retry schedule (the default
 * http schedule waits about 36 minutes in all), or events still retrying are counted too.
 */
export const DEFAULT_RECONCILE_AFTER_MS = 15 * 60_000

/** Counts per deployed flow, 0 included, so a flow's series does not vanish when it has none. */
export function unreconciledCounts(deps: {
  store: Store
  registry: FlowRegistry
  afterMs: number
  now: () => number
}): () => Promise<Map<string, number>> {
  return async () => {
    const counts = await deps.store.countUnreconciled(new Date(deps.now() - deps.afterMs))
    for (const flow of deps.registry.deployed()) if (!counts.has(flow.doc.id)) counts.set(flow.doc.id, 0)
    return counts
  }
}
