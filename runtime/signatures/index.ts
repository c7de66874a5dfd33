/** @module Checks who sent a webhook (stripe, standard-webhooks, hmac, bearer), and signs outgoing deliveries. */
import type { SignatureCheck, SignatureVerdict } from '../model/node-kind.ts'
import { verifyWithScheme } from './scheme.ts'
import { signatureSchemes } from './schemes.ts'
import type { SignedRequest } from './signed-request.ts'

export { type SignDeliveryOptions, signDelivery } from './sign-delivery.ts'
export type { SignedRequest } from './signed-request.ts'

/**
 * The verdict on one delivery: which secret matched (for rotations) and the signed timestamp,
 * or a failure code with a reason that never holds a secret or the expected signature.
 */
export function verifySignature(check: SignatureCheck, request: SignedRequest): SignatureVerdict {
  return verifyWithScheme(signatureSchemes[check.scheme], check, request)
}
