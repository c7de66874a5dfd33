/** @module Admin API: a saved flow version's field lineage as an OpenLineage run event, for data catalogues. */
import type { Request } from 'express'
import { versionOpenLineage } from '../../files/flow-openlineage.ts'
import { DEFAULT_LINEAGE_NAMESPACE } from '../../files/openlineage-event.ts'
import { ApiError, defineRoutes } from './route.ts'
import { isPositiveInteger } from './test-run.ts'

/** Namespaces are names, not documents: a catalogue shows them in its lists. */
const NAMESPACE_MAX = 200

export const openLineageRoutes = defineRoutes([
  {
    method: 'get',
    path: '/flows/:id/versions/:version/openlineage',
    role: 'viewer',
    summary:
      'The static field lineage of a flow version as an OpenLineage run event (columnLineage facet 1-2-0 per output)',
    query: {
      namespace: {
        type: 'string',
        description: `the OpenLineage namespace of job and datasets (${DEFAULT_LINEAGE_NAMESPACE})`,
      },
    },
    responses: { 200: 'an OpenLineage RunEvent', 400: 'invalid version or namespace', 404: 'no such version' },
    async handler(req, res, { deps }) {
      const flowId = String(req.params.id)
      const version = Number(req.params.version)
      if (!isPositiveInteger(version)) {
        throw new ApiError(400, 'invalid_request', 'the version in the address must be a positive integer', {
          parameter: 'version',
        })
      }
      const namespace = namespaceOf(req)
      const record = await deps.store.getFlowVersion(flowId, version)
      if (!record) throw new ApiError(404, 'not_found', `flow "${flowId}" has no version ${version}`)
      res.json(versionOpenLineage(record, deps.kinds, namespace))
    },
  },
])

function namespaceOf(req: Request): string {
  const given = req.query.namespace
  if (given === undefined) return DEFAULT_LINEAGE_NAMESPACE
  if (typeof given !== 'string' || given === '' || given.length > NAMESPACE_MAX) {
    throw new ApiError(400, 'invalid_request', `namespace must be a text of 1 to ${NAMESPACE_MAX} characters`, {
      parameter: 'namespace',
    })
  }
  return given
}
