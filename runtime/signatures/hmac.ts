/** @module The `hmac` scheme: an HMAC of the raw body alone in a configured header, hex or base64, maybe prefixed. */
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

export type HmacAlgorithm = NonNullable<SignatureCheck['algorithm']>
export type HmacEncoding = NonNullable<SignatureCheck['encoding']>

export interface HmacOptions {
  algorithm?: HmacAlgorithm
  encoding?: HmacEncoding
  /** Text before the digest, such as `sha256=`. */
  prefix?: string
}

export const HMAC_DEFAULT_ALGORITHM: HmacAlgorithm = 'sha256'
export const HMAC_DEFAULT_ENCODING: HmacEncoding = 'hex'

const HEX = /^[0-9a-f]+$/i
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function hmacKey(secret: string): Uint8Array {
  return Buffer.from(secret, 'utf8')
}

/** The digest in its normal form: hex is lower-case, so a sender's upper-case hex compares equal. */
function hmacDigest(key: Uint8Array, rawBody: string, options: HmacOptions): string {
  const algorithm = options.algorithm ?? HMAC_DEFAULT_ALGORITHM
  const encoding = options.encoding ?? HMAC_DEFAULT_ENCODING
  return createHmac(algorithm, key).update(rawBody, 'utf8').digest(encoding)
}

/** The claimed digest without its prefix, normalised; or why it cannot be one. */
function claimedDigest(value: string, options: HmacOptions): string | { why: string } {
  const prefix = options.prefix ?? ''
  if (!value.startsWith(prefix)) return { why: `does not start with the prefix ${prefix}` }
  const digest = value.slice(prefix.length).trim()
  if ((options.encoding ?? HMAC_DEFAULT_ENCODING) === 'hex') {
    return HEX.test(digest) ? digest.toLowerCase() : { why: 'is not a hex digest' }
  }
  return BASE64.test(digest) ? digest : { why: 'is not a base64 digest' }
}

function readHmac(check: SignatureCheck, headers: Record<string, string>): SignedParts | SchemeFailure {
  const name = check.header
  if (name === undefined) {
    return {
      ok: false,
      code: 'missing_header',
      reason: 'the hmac scheme needs the name of the header that carries the signature (verify config `header`)',
    }
  }
  const value = requireHeader(headers, name)
  if (typeof value !== 'string') return value
  const digest = claimedDigest(value, check)
  if (typeof digest !== 'string') return malformedHeader(name, digest.why)
  return { ok: true, signatures: [digest], sign: (key, rawBody) => hmacDigest(key, rawBody, check) }
}

export const hmacScheme: SchemeDefinition = {
  header: (check) => check.header,
  read: readHmac,
  keyOf: hmacKey,
}

export function verifyHmac(check: SignatureCheck, request: SignedRequest): SignatureVerdict {
  return verifyWithScheme(hmacScheme, check, request)
}

/** The header value a sender sends: the prefix, then the digest of the raw body. */
export function signHmac(secret: string, rawBody: string, options: HmacOptions = {}): string {
  return `${options.prefix ?? ''}${hmacDigest(hmacKey(secret), rawBody, options)}`
}
