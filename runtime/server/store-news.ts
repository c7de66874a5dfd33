/**
 * @module What a runtime does with news from other processes on a shared store: a deploy refreshes the
 * registry (the next webhook takes the new version), new work wakes the idle worker.
 *
 * Notifications can be missed while the listening connection reconnects, so a shared store also has the
 * registry re-read now and then; an idle worker already looks at the queue on its own (flow-worker.ts).
 */
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import type { Store } from '../store/store.ts'
import type { Logger } from './logger.ts'

/** How often a runtime on a shared store re-reads the deployed versions without being told. */
export const REGISTRY_RESYNC_MS = 10_000

export interface StoreNewsDeps {
  store: Store
  registry: FlowRegistry
  wakeWorker: () => void
  logger: Logger
}

/** Starts listening; the function returned stops it. Stores that only one process opens have no news. */
export function followStoreNews({ store, registry, wakeWorker, logger }: StoreNewsDeps): () => void {
  if (!store.subscribe) return () => {}
  let refreshing: Promise<void> | undefined
  const refresh = (why: string) => {
    refreshing ??= registry
      .refresh()
      .catch((err: unknown) => logger.error({ err, why }, 'reading the deployed flows failed'))
      .finally(() => {
        refreshing = undefined
      })
    return refreshing
  }
  const unsubscribe = store.subscribe((news) => {
    if (news.kind === 'work') wakeWorker()
    else {
      logger.info({ flowId: news.flowId, flowVersion: news.version }, 'deploy seen')
      void refresh('deploy')
    }
  })
  const resync = setInterval(() => void refresh('resync'), REGISTRY_RESYNC_MS)
  resync.unref()
  return () => {
    clearInterval(resync)
    unsubscribe()
  }
}
