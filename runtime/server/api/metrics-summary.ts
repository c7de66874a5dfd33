/** @module Admin API: GET /api/metrics/summary — the figures behind the editor's charts, and the queue now. */
import type { VersionFigures } from '../recent-figures.ts'
import type { ApiDeps } from './deps.ts'
import { queryParameter } from './events.ts'
import { defineRoutes } from './route.ts'

/** While a flow's canary runs: which versions share its new events, and each one's figures. */
export interface CanarySummary {
  canary: { stableVersion: number; version: number; percent: number }
  versions: Array<VersionFigures & { role: 'stable' | 'canary' }>
}

export const metricsSummaryRoutes = defineRoutes([
  {
    method: 'get',
    path: '/metrics/summary',
    role: 'viewer',
    summary:
      'Recent figures (5 min, 1 h, 24 h windows and a per-minute series) and the queue; with ?flow= while a ' +
      'canary runs, the same figures per version',
    query: { flow: { type: 'string', description: 'only this flow' } },
    responses: { 200: '{at, flow, windows, series, queue, canary?, versions?}' },
    async handler(req, res, { deps }) {
      const flow = queryParameter(req.query as Record<string, unknown>, 'flow')
      const nowMs = deps.now()
      const queue = await deps.store.queueFigures(new Date(nowMs))
      res.json({ ...deps.figures.summary(nowMs, flow), queue, ...(flow ? canarySummary(deps, flow, nowMs) : {}) })
    },
  },
])

function canarySummary(deps: ApiDeps, flow: string, nowMs: number): CanarySummary | undefined {
  const canary = deps.registry.canary(flow)
  const stable = deps.registry.deployed().find((f) => f.doc.id === flow)?.doc.version
  if (!canary || stable === undefined) return undefined
  const [stableFigures, canaryFigures] = deps.figures.versionSummary(nowMs, flow, [stable, canary.version])
  return {
    canary: { stableVersion: stable, version: canary.version, percent: canary.percent },
    versions: [
      { ...(stableFigures as VersionFigures), role: 'stable' },
      { ...(canaryFigures as VersionFigures), role: 'canary' },
    ],
  }
}
