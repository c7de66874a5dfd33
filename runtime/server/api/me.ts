/** @module GET /api/me: who the token is, so the editor offers only what its role may do. */
import { defineRoutes } from './route.ts'

export const meRoutes = defineRoutes([
  {
    method: 'get',
    path: '/me',
    role: 'viewer',
    summary: 'The calling token: its name and role',
    responses: { 200: '{name, role}' },
    handler(_req, res, { caller }) {
      res.json({ name: caller.name, role: caller.role })
    },
  },
])
