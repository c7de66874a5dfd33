/** @module The `bearer` scheme: the header (default `authorization`) must be `Bearer <secret>`. */
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

export const BEARER_DEFAULT_HEADER = 'authorization'

/** The auth-scheme word is case-insensitive (RFC 9110); the token is compared exactly. */
const BEARER = /^bearer\s+(\S.*)$/i

function bearerKey(secret: string): Uint8Array {
  return Buffer.from(secret, 'utf8')
}

function readBearer(check: SignatureCheck, headers: Record<string, string>): SignedParts | SchemeFailure {
  const name = check.header ?? BEARER_DEFAULT_HEADER
  const value = requireHeader(headers, name)
  if (typeof value !== 'string') return value
  const token = BEARER.exec(value)?.[1]
  if (token === undefined) return malformedHeader(name, 'is not Bearer <token>')
  // The "signature" is the credential itself: `Bearer <secret>`, whatever the body.
  return {
    ok: true,
    signatures: [signBearer(token)],
    sign: (key) => signBearer(Buffer.from(key).toString('utf8')),
  }
}

export const bearerScheme: SchemeDefinition = {
  header: (check) => check.header ?? BEARER_DEFAULT_HEADER,
  read: readBearer,
  keyOf: bearerKey,
}

export function verifyBearer(check: SignatureCheck, request: SignedRequest): SignatureVerdict {
  return verifyWithScheme(bearerScheme, check, request)
}

/** The header value a sender sends: `Bearer <secret>`. */
export function signBearer(secret: string): string {
  return `Bearer ${secret}`
}
