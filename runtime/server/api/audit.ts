/** @module GET /api/audit: who did what, when and why — token changes, secret rotations, deploys, replays. */
import { ApiError, defineRoutes } from './route.ts'

export const AUDIT_PAGE_DEFAULT = 50
export const AUDIT_PAGE_MAX = 500

export const auditRoutes = defineRoutes([
  {
    method: 'get',
    path: '/audit',
    role: 'operator',
    summary:
      'The audit log, newest first: actor, action, target, reason and details (fingerprints, never secret values)',
    query: {
      limit: { type: 'integer', description: `entries per page, 1..${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})` },
      cursor: { type: 'string', description: 'nextCursor of the previous page' },
    },
    responses: { 200: '{items: [{id, at, actor, action, target, reason, details}], nextCursor}', 400: 'limit invalid' },
    async handler(req, res, { deps }) {
      const limit = pageLimit(req.query.limit)
      const cursor = typeof req.query.cursor === 'string' && req.query.cursor !== '' ? req.query.cursor : undefined
      res.json(await deps.store.listAudit({ limit, ...(cursor === undefined ? {} : { cursor }) }))
    },
  },
])

function pageLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return AUDIT_PAGE_DEFAULT
  const limit = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!(limit >= 1 && limit <= AUDIT_PAGE_MAX)) {
    throw new ApiError(400, 'invalid_query', `limit: must be an integer from 1 to ${AUDIT_PAGE_MAX}`)
  }
  return limit
}
