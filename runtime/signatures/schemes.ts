/** @module Every signature scheme by name. */
import type { SignatureScheme } from '../model/node-kind.ts'
import { bearerScheme } from './bearer.ts'
import { hmacScheme } from './hmac.ts'
import type { SchemeDefinition } from './scheme.ts'
import { standardWebhooksScheme } from './standard-webhooks.ts'
import { stripeScheme } from './stripe.ts'

export const signatureSchemes: Record<SignatureScheme, SchemeDefinition> = {
  stripe: stripeScheme,
  'standard-webhooks': standardWebhooksScheme,
  hmac: hmacScheme,
  bearer: bearerScheme,
}
