/** @module verify — checks who sent the raw body, before anything parses it. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind } from '../model/node-kind.ts'
import { secretRefSchema, stringEnum } from '../model/schema-helpers.ts'
import { StepError } from '../model/step-error.ts'

export const DEFAULT_TOLERANCE_SEC = 300
const SCHEMES = ['stripe', 'standard-webhooks', 'hmac', 'bearer'] as const

export const verify = defineNodeKind({
  kind: 'verify',
  title: 'Verify signature',
  description: 'Checks the sender’s signature on the raw body (stripe, Standard Webhooks, HMAC or bearer token).',
  phase: 'guard',
  color: '#7c3aed',
  config: Type.Object(
    {
      scheme: stringEnum(SCHEMES, { title: 'Scheme', default: 'stripe' }),
      header: Type.Optional(Type.String({ minLength: 1, title: 'Signature header' })),
      secret: secretRefSchema({ title: 'Signing secret' }),
      toleranceSec: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 86_400, default: DEFAULT_TOLERANCE_SEC, title: 'Timestamp tolerance (s)' }),
      ),
      algorithm: Type.Optional(stringEnum(['sha1', 'sha256', 'sha512'] as const, { title: 'HMAC algorithm' })),
      encoding: Type.Optional(stringEnum(['hex', 'base64'] as const, { title: 'Signature encoding' })),
      prefix: Type.Optional(Type.String({ title: 'Signature prefix', description: 'for example sha256=' })),
    },
    { additionalProperties: false },
  ),
  defaults: { scheme: 'stripe', header: 'stripe-signature', secret: { ref: 'WEBHOOK_SECRET' }, toleranceSec: 300 },
  ports: () => ({ ok: { title: 'verified' }, invalid: { title: 'invalid', error: ['invalid_signature'] } }),
  async run(config, ctx) {
    const secrets = ctx.secret(config.secret)
    const verdict = ctx.verifySignature({
      scheme: config.scheme,
      ...(config.header === undefined ? {} : { header: config.header.toLowerCase() }),
      secrets,
      toleranceSec: config.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
      ...(config.algorithm === undefined ? {} : { algorithm: config.algorithm }),
      ...(config.encoding === undefined ? {} : { encoding: config.encoding }),
      ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
    })
    if (verdict.ok) {
      return {
        port: 'ok',
        note: {
          scheme: config.scheme,
          secretIndex: verdict.secretIndex,
          ...(verdict.fingerprint === undefined ? {} : { secretFingerprint: verdict.fingerprint }),
        },
      }
    }
    throw new StepError('invalid_signature', verdict.reason, { details: { code: verdict.code } })
  },
})
