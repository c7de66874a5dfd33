/**
 * @module /api/secrets: names, fingerprints and rotation overlaps of the secrets the runtime holds; set or rotate.
 *
 * A value goes in and never comes out: answers, audit entries and log lines carry fingerprints only.
 */
import { Type } from '@sinclair/typebox'
import type { SecretSummary } from '../../store/store.ts'
import { bodyChecker } from './body-check.ts'
import { ApiError, defineRoutes } from './route.ts'

export const SECRET_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$'
export const SECRET_NAME_MAX = 200
export const SECRET_VALUE_MAX = 8192
/** When a value replaces another and the caller says nothing, the old one stays valid this long. */
export const DEFAULT_ROTATION_OVERLAP_SEC = 3600
export const MAX_OVERLAP_SEC = 30 * 86_400
const REASON_MAX = 500

const putSecretBody = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: SECRET_VALUE_MAX, description: 'the secret; never returned' }),
    overlapSec: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_OVERLAP_SEC,
        description: `how long the replaced value stays valid (default ${DEFAULT_ROTATION_OVERLAP_SEC} when replacing)`,
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: REASON_MAX, description: 'why, for the audit log' })),
  },
  { additionalProperties: false },
)

const checkPutSecret = bodyChecker<{ value: string; overlapSec?: number; reason?: string }>(putSecretBody)
const namePattern = new RegExp(SECRET_NAME_PATTERN)

/** What the API shows of a secret: a summary of the store's, never its value. */
export type SecretView = SecretSummary & { source: 'store' }

function view(summary: SecretSummary): SecretView {
  return {
    name: summary.name,
    fingerprint: summary.fingerprint,
    updatedAt: summary.updatedAt,
    updatedBy: summary.updatedBy,
    previous: summary.previous && {
      fingerprint: summary.previous.fingerprint,
      validUntil: summary.previous.validUntil,
    },
    source: 'store',
  }
}

export const secretRoutes = defineRoutes([
  {
    method: 'get',
    path: '/secrets',
    role: 'operator',
    summary:
      'The secrets set through the API or CLI: name, fingerprint, who set it when, and the value a rotation replaced while it is still valid',
    responses: {
      200: '[{name, fingerprint, updatedAt, updatedBy, previous: {fingerprint, validUntil} | null, source}]',
    },
    async handler(_req, res, { deps }) {
      const secrets = await deps.store.listSecrets(new Date(deps.now()))
      res.json(secrets.map(view))
    },
  },
  {
    method: 'put',
    path: '/secrets/:name',
    role: 'operator',
    summary: `Set a secret, or rotate it: the value it replaces stays valid for overlapSec seconds (default 0 for a first value, ${DEFAULT_ROTATION_OVERLAP_SEC} when replacing one). Answers the summary, never the value`,
    body: putSecretBody,
    responses: {
      200: '{name, fingerprint, updatedAt, updatedBy, previous, source}',
      400: 'name, value or overlapSec invalid',
    },
    async handler(req, res, { deps, caller }) {
      const name = String(req.params.name)
      if (!namePattern.test(name) || name.length > SECRET_NAME_MAX) {
        throw new ApiError(
          400,
          'invalid_name',
          `name: a secret name is 1..${SECRET_NAME_MAX} letters, digits and _, not starting with a digit`,
        )
      }
      const body = checkPutSecret(req.body)
      const now = new Date(deps.now())
      const replacing = (await deps.store.secretValues(name, now)).some((v) => v.validUntil === null)
      const overlapSec = body.overlapSec ?? (replacing ? DEFAULT_ROTATION_OVERLAP_SEC : 0)
      const summary = await deps.vault.set(name, body.value, overlapSec, caller.name)
      await deps.store.appendAudit({
        actor: caller.name,
        action: replacing ? 'secret.rotate' : 'secret.set',
        target: `secret:${name}`,
        reason: body.reason ?? null,
        details: {
          fingerprint: summary.fingerprint,
          previousFingerprint: summary.previous?.fingerprint ?? null,
          previousValidUntil: summary.previous?.validUntil ?? null,
          overlapSec,
        },
      })
      deps.logger.info(
        { secretName: name, fingerprint: summary.fingerprint, overlapSec, actor: caller.name },
        replacing ? 'secret rotated' : 'secret set',
      )
      res.json(view(summary))
    },
  },
])
