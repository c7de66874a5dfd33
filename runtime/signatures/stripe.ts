/** @module The `stripe` scheme: `t=<unix>,v1=<hex>` over `<t>.<raw body>`, keyed by the secret string as it is. */
import { createHmac } from 'node:crypto'
import type { SignatureCheck, SignatureVerdict } from '../model/node-kind.ts'
import {
  malformedHeader,
  requireHeader,
  type SchemeDefinition,
  type SchemeFailure,
  type SignedParts,
  verifyWithScheme,
} from './scheme.ts'
import type { SignedRequest } from './signed-request.ts'

export const STRIPE_DEFAULT_HEADER = 'stripe-signature'

const UNIX_SECONDS = /^\d{1,12}$/

interface StripeHeader {
  /** The timestamp exactly as sent: it is part of the signed content. */
  t: string
  v1: string[]
}

/** The HMAC key is the secret's UTF-8 bytes, a `whsec_` prefix included: Stripe never base64-decodes it. */
function stripeKey(secret: string): Uint8Array {
  return Buffer.from(secret, 'utf8')
}

function stripeDigest(key: Uint8Array, t: string, rawBody: string): string {
  return createHmac('sha256', key).update(`${t}.${rawBody}`, 'utf8').digest('hex')
}

/** Splits `t=..,v1=..,v1=..`, tolerating spaces around items and skipping unknown keys such as v0. */
function parseStripeHeader(value: string): StripeHeader | string {
  let t: string | undefined
  const v1: string[] = []
  for (const item of value.split(',')) {
    const eq = item.indexOf('=')
    if (eq < 0) continue
    const key = item.slice(0, eq).trim()
    const entry = item.slice(eq + 1).trim()
    if (key === 't' && t === undefined) t = entry
    else if (key === 'v1' && entry !== '') v1.push(entry.toLowerCase())
  }
  if (t === undefined) return 'has no t= timestamp'
  if (!UNIX_SECONDS.test(t)) return 'has a t= value that is not Unix seconds'
  if (v1.length === 0) return 'has no v1= signature'
  return { t, v1 }
}

function readStripe(check: SignatureCheck, headers: Record<string, string>): SignedParts | SchemeFailure {
  const name = check.header ?? STRIPE_DEFAULT_HEADER
  const value = requireHeader(headers, name)
  if (typeof value !== 'string') return value
  const parsed = parseStripeHeader(value)
  if (typeof parsed === 'string') return malformedHeader(name, `is not t=<unix>,v1=<hex>: it ${parsed}`)
  return {
    ok: true,
    timestamp: Number(parsed.t),
    signatures: parsed.v1,
    sign: (key, rawBody) => stripeDigest(key, parsed.t, rawBody),
  }
}

export const stripeScheme: SchemeDefinition = {
  header: (check) => check.header ?? STRIPE_DEFAULT_HEADER,
  read: readStripe,
  keyOf: stripeKey,
}

export function verifyStripe(check: SignatureCheck, request: SignedRequest): SignatureVerdict {
  return verifyWithScheme(stripeScheme, check, request)
}

/** The header value a sender sends: `t=<timestampSec>,v1=<hex>`. */
export function signStripe(secret: string, rawBody: string, timestampSec: number): string {
  const t = String(Math.floor(timestampSec))
  return `t=${t},v1=${stripeDigest(stripeKey(secret), t, rawBody)}`
}
