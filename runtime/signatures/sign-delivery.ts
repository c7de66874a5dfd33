/** @module The headers a sender attaches to a delivery, for the mock sender and outbound http signing. */
import { randomUUID } from 'node:crypto'
import type { SignatureScheme } from '../model/node-kind.ts'
import { BEARER_DEFAULT_HEADER, signBearer } from './bearer.ts'
import { type HmacOptions, signHmac } from './hmac.ts'
import {
  STANDARD_WEBHOOKS_DEFAULT_HEADER,
  STANDARD_WEBHOOKS_ID_HEADER,
  STANDARD_WEBHOOKS_TIMESTAMP_HEADER,
  signStandardWebhooks,
} from './standard-webhooks.ts'
import { STRIPE_DEFAULT_HEADER, signStripe } from './stripe.ts'

export interface SignDeliveryOptions extends HmacOptions {
  /** The signature header; each scheme's default when absent (required for hmac). */
  header?: string
  timestampSec: number
  /** Standard Webhooks message id; a fresh `msg_…` when absent. */
  id?: string
}

function newMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`
}

function signStandardWebhooksDelivery(secret: string, rawBody: string, options: SignDeliveryOptions) {
  const id = options.id ?? newMessageId()
  const timestamp = Math.floor(options.timestampSec)
  return {
    [STANDARD_WEBHOOKS_ID_HEADER]: id,
    [STANDARD_WEBHOOKS_TIMESTAMP_HEADER]: String(timestamp),
    [(options.header ?? STANDARD_WEBHOOKS_DEFAULT_HEADER).toLowerCase()]: signStandardWebhooks(
      secret,
      id,
      timestamp,
      rawBody,
    ),
  }
}

function signHmacDelivery(secret: string, rawBody: string, options: SignDeliveryOptions) {
  if (options.header === undefined) throw new TypeError('hmac signing needs the name of the signature header')
  return { [options.header.toLowerCase()]: signHmac(secret, rawBody, options) }
}

/** The signature headers (lower-case names) a sender of this scheme sends with `rawBody`. */
export function signDelivery(
  scheme: SignatureScheme,
  secret: string,
  rawBody: string,
  options: SignDeliveryOptions,
): Record<string, string> {
  switch (scheme) {
    case 'stripe':
      return {
        [(options.header ?? STRIPE_DEFAULT_HEADER).toLowerCase()]: signStripe(secret, rawBody, options.timestampSec),
      }
    case 'standard-webhooks':
      return signStandardWebhooksDelivery(secret, rawBody, options)
    case 'hmac':
      return signHmacDelivery(secret, rawBody, options)
    case 'bearer':
      return { [(options.header ?? BEARER_DEFAULT_HEADER).toLowerCase()]: signBearer(secret) }
  }
}
