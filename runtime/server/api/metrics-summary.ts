/** @module Admin API: GET /api/metrics/summary — the figures behind the editor's charts, and the queue now. */
import { queryParameter } from './events.ts'
import { defineRoutes } from './route.ts'

export const metricsSummaryRoutes = defineRoutes([
  {
    method: 'get',
    path: '/metrics/summary',
    role: 'viewer',
    summary: 'Recent figures (5 min, 1 h, 24 h windows and a per-minute series) and the queue',
    query: { flow: { type: 'string', description: 'only this flow' } },
    responses: { 200: '{at, flow, windows, series, queue}' },
    async handler(req, res, { deps }) {
      const flow = queryParameter(req.query as Record<string, unknown>, 'flow')
      const nowMs = deps.now()
      const queue = await deps.store.queueFigures(new Date(nowMs))
      res.json({ ...deps.figures.summary(nowMs, flow), queue })
    },
  },
])
