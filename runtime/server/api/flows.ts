/** @module Admin API: flows and their versions — list, read, save a new version, deploy, test run. */
import type { Request } from 'express'
import type { FlowDocument } from '../../model/types.ts'
import { type CanaryDeployment, type Deployment, VersionConflict } from '../../store/store.ts'
import { checkDeployBody, deploy, deployBody } from './deploy.ts'
import type { ApiDeps } from './deps.ts'
import { ApiError, type Caller, defineRoutes } from './route.ts'
import { compileOrReject, invalidField, isPositiveInteger, testRun, testRunBody } from './test-run.ts'

export const flowRoutes = defineRoutes([
  {
    method: 'get',
    path: '/flows',
    role: 'viewer',
    summary: 'Every flow: its latest and its deployed version, and the canary beside it',
    responses: { 200: '[{id, name, version, deployedVersion, canary: {version, percent} | null}]' },
    async handler(_req, res, { deps }) {
      const [flows, deployments] = await Promise.all([deps.store.listFlows(), deps.store.deployments()])
      res.json(flows.map((flow) => ({ ...flow, canary: deployments.get(flow.id)?.canary ?? null })))
    },
  },
  {
    method: 'get',
    path: '/flows/:id',
    role: 'viewer',
    summary: 'The latest saved document of a flow',
    responses: { 200: 'the flow document', 404: 'no such flow' },
    async handler(req, res, { deps }) {
      const flowId = param(req, 'id')
      const latest = await deps.store.latestFlowVersion(flowId)
      if (!latest) throw noFlow(flowId)
      res.json(latest.document)
    },
  },
  {
    method: 'get',
    path: '/flows/:id/versions',
    role: 'viewer',
    summary: 'The saved versions of a flow, newest first',
    responses: {
      200: '[{version, savedAt, savedBy, hash, deployed, canary}]: canary {version, percent} on the candidate',
      404: 'no such flow',
    },
    async handler(req, res, { deps }) {
      const flowId = param(req, 'id')
      const [versions, deployments] = await Promise.all([deps.store.listFlowVersions(flowId), deps.store.deployments()])
      if (versions.length === 0) throw noFlow(flowId)
      const deployment = deployments.get(flowId)
      res.json(
        versions
          .map((v) => ({
            version: v.version,
            savedAt: v.savedAt,
            savedBy: v.savedBy,
            hash: v.hash,
            deployed: v.version === deployment?.version,
            canary: canaryOf(deployment, v.version),
          }))
          .sort((a, b) => b.version - a.version),
      )
    },
  },
  {
    method: 'get',
    path: '/flows/:id/versions/:version',
    role: 'viewer',
    summary: 'One saved version of a flow, with its document',
    responses: {
      200: '{flowId, version, hash, savedAt, savedBy, deployed, canary, document}',
      404: 'no such version',
    },
    async handler(req, res, { deps }) {
      const flowId = param(req, 'id')
      const version = Number(param(req, 'version'))
      if (!isPositiveInteger(version)) {
        throw new ApiError(400, 'invalid_request', 'the version in the address must be a positive integer', {
          parameter: 'version',
        })
      }
      const [record, deployments] = await Promise.all([
        deps.store.getFlowVersion(flowId, version),
        deps.store.deployments(),
      ])
      if (!record) throw new ApiError(404, 'not_found', `flow "${flowId}" has no version ${version}`)
      const deployment = deployments.get(flowId)
      res.json({ ...record, deployed: deployment?.version === version, canary: canaryOf(deployment, version) })
    },
  },
  {
    method: 'put',
    path: '/flows/:id',
    role: 'editor',
    summary: 'Saves the body as the next version of the flow (its version must be the latest + 1)',
    body: { type: 'object', description: 'the flow document', required: ['id', 'version'] },
    responses: {
      201: 'the saved version record',
      400: 'invalid_flow: the graph-check issues, each naming the node and the field',
      409: 'version_conflict: {latest}',
    },
    async handler(req, res, { deps, caller }) {
      res.status(201).json(await saveFlow(deps, caller, param(req, 'id'), req.body))
    },
  },
  {
    method: 'post',
    path: '/flows/:id/deploy',
    role: 'operator',
    summary:
      'Makes a saved version take the flow’s new webhooks (ending any canary), or with canaryPercent a share of ' +
      'them beside the deployed version',
    body: deployBody,
    responses: {
      200: '{flowId, version, canary}: version is the deployed (stable) one',
      404: 'no such version',
      409: 'a canary with no deployed version, of the deployed version itself, or on another webhook path',
    },
    async handler(req, res, { deps, caller }) {
      res.json(await deploy(deps, caller, param(req, 'id'), checkDeployBody(req.body ?? {})))
    },
  },
  {
    method: 'post',
    path: '/flows/:id/test',
    role: 'editor',
    summary: 'Runs the flow on a payload without side effects (an unsaved document, a version, or the latest)',
    body: testRunBody,
    responses: {
      200: '{outcome, steps, lineage, answer?, rejection?, deadLetters, work}',
      400: 'invalid request or invalid_flow',
      404: 'no such flow or version',
    },
    async handler(req, res, { deps }) {
      res.json(await testRun(deps, param(req, 'id'), req.body))
    },
  },
])

async function saveFlow(deps: ApiDeps, caller: Caller, flowId: string, body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidField('body', 'type', 'must be the flow document (a JSON object)')
  }
  const id = (body as { id?: unknown }).id
  if (id !== flowId) {
    throw invalidField('id', 'const', `${JSON.stringify(id)} is not the flow "${flowId}" of the address`)
  }
  compileOrReject(body, deps)
  const document = body as FlowDocument
  const latest = (await deps.store.latestFlowVersion(flowId))?.version ?? 0
  if (document.version !== latest + 1) throw versionConflict(new VersionConflict(flowId, document.version, latest))
  let saved: Awaited<ReturnType<ApiDeps['store']['saveFlowVersion']>>
  try {
    // The store checks the version again in its transaction: of two saves from one base, one gets 409.
    saved = await deps.store.saveFlowVersion(document, caller.name)
  } catch (error) {
    if (error instanceof VersionConflict) throw versionConflict(error)
    throw error
  }
  await deps.store.appendAudit({
    actor: caller.name,
    action: 'save',
    target: `flow:${flowId}@${saved.version}`,
    reason: null,
    details: { hash: saved.hash },
  })
  return saved
}

function versionConflict(error: VersionConflict): ApiError {
  return new ApiError(409, 'version_conflict', error.message, { latest: error.latest })
}

/** The canary on the row of its candidate version; null on every other row. */
function canaryOf(deployment: Deployment | undefined, version: number): CanaryDeployment | null {
  return deployment?.canary?.version === version ? deployment.canary : null
}

function noFlow(flowId: string): ApiError {
  return new ApiError(404, 'not_found', `no flow "${flowId}"`)
}

function param(req: Request, name: string): string {
  return String(req.params[name])
}
