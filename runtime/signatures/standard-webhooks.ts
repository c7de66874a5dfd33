/** @module The `standard-webhooks` scheme: `v1,<base64>` over `<id>.<timestamp>.<raw body>`, key `whsec_<base64>`. */
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

export const STANDARD_WEBHOOKS_ID_HEADER = 'webhook-id'
export const STANDARD_WEBHOOKS_TIMESTAMP_HEADER = 'webhook-timestamp'
export const STANDARD_WEBHOOKS_DEFAULT_HEADER = 'webhook-signature'
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_'

const UNIX_SECONDS = /^\d{1,12}$/

/** The key is the base64 after `whsec_`; a secret without the prefix is base64 as a whole. */
function standardWebhooksKey(secret: string): Uint8Array {
  const encoded = secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)
    ? secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length)
    : secret
  return Buffer.from(encoded, 'base64')
}

function standardWebhooksDigest(key: Uint8Array, id: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`, 'utf8').digest('base64')
}

/** The base64 of every `v1,<base64>` entry of a space-separated list; other versions (v1a, …) are skipped. */
function parseSignatureList(value: string): string[] | string {
  const entries = value.split(/\s+/).filter((entry) => entry !== '')
  if (!entries.some((entry) => entry.includes(','))) return 'is not a list of v1,<base64>'
  const v1 = entries.filter((entry) => entry.startsWith('v1,')).map((entry) => entry.slice('v1,'.length))
  return v1.length === 0 ? 'has no v1 signature' : v1
}

function readStandardWebhooks(check: SignatureCheck, headers: Record<string, string>): SignedParts | SchemeFailure {
  const signatureHeader = check.header ?? STANDARD_WEBHOOKS_DEFAULT_HEADER
  const id = requireHeader(headers, STANDARD_WEBHOOKS_ID_HEADER)
  if (typeof id !== 'string') return id
  const timestamp = requireHeader(headers, STANDARD_WEBHOOKS_TIMESTAMP_HEADER)
  if (typeof timestamp !== 'string') return timestamp
  const list = requireHeader(headers, signatureHeader)
  if (typeof list !== 'string') return list
  if (!UNIX_SECONDS.test(timestamp)) return malformedHeader(STANDARD_WEBHOOKS_TIMESTAMP_HEADER, 'is not Unix seconds')
  const signatures = parseSignatureList(list)
  if (typeof signatures === 'string') return malformedHeader(signatureHeader, signatures)
  return {
    ok: true,
    timestamp: Number(timestamp),
    signatures,
    sign: (key, rawBody) => standardWebhooksDigest(key, id, timestamp, rawBody),
  }
}

export const standardWebhooksScheme: SchemeDefinition = {
  header: (check) => check.header ?? STANDARD_WEBHOOKS_DEFAULT_HEADER,
  read: readStandardWebhooks,
  keyOf: standardWebhooksKey,
}

export function verifyStandardWebhooks(check: SignatureCheck, request: SignedRequest): SignatureVerdict {
  return verifyWithScheme(standardWebhooksScheme, check, request)
}

/** The `webhook-signature` value a sender sends: `v1,<base64>`. */
export function signStandardWebhooks(secret: string, id: string, timestampSec: number, rawBody: string): string {
  const timestamp = String(Math.floor(timestampSec))
  return `v1,${standardWebhooksDigest(standardWebhooksKey(secret), id, timestamp, rawBody)}`
}
