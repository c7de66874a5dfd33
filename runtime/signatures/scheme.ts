/** @module What every signature scheme provides, and the one verification loop they share. */
import type { SignatureCheck, SignatureVerdict } from '../model/node-kind.ts'
import { constantTimeEqual } from './constant-time.ts'
import { headerValue, type SignedRequest } from './signed-request.ts'
import { checkTimestamp } from './timestamp-tolerance.ts'

export type SchemeFailure = Extract<SignatureVerdict, { ok: false }>

/** What a scheme reads from a request: the signatures it claims and how to compute one. */
export interface SignedParts {
  ok: true
  /** The signed timestamp, Unix seconds, for schemes that sign one. */
  timestamp?: number
  /** The claimed signatures, in the normal form `sign` produces (lower-case hex, …). */
  signatures: string[]
  /** The signature a key gives for a raw body, for the rest of what this request signs (id, timestamp). */
  sign(key: Uint8Array, rawBody: string): string
}

export interface SchemeDefinition {
  /** The header that carries the signature; undefined when the config must name it and does not. */
  header(check: SignatureCheck): string | undefined
  /** Parses the signature headers, or says why they cannot be used. */
  read(check: SignatureCheck, headers: Record<string, string>): SignedParts | SchemeFailure
  /** The key bytes a configured secret stands for in this scheme. */
  keyOf(secret: string): Uint8Array
}

export const NO_SECRET: SchemeFailure = {
  ok: false,
  code: 'no_secret',
  reason: 'no secret is configured for this verify node',
}

/** Index of the first key whose signature of `rawBody` equals one the request claims, or -1. */
export function matchingKey(parts: SignedParts, keys: readonly Uint8Array[], rawBody: string): number {
  return keys.findIndex((key) => {
    const expected = parts.sign(key, rawBody)
    return parts.signatures.some((claimed) => constantTimeEqual(claimed, expected))
  })
}

export function missingHeader(name: string): SchemeFailure {
  return { ok: false, code: 'missing_header', reason: `the request has no ${name} header` }
}

export function malformedHeader(name: string, why: string): SchemeFailure {
  return { ok: false, code: 'malformed_header', reason: `the ${name} header ${why}` }
}

/** Reads a required header: its trimmed value, or the failure to report. */
export function requireHeader(headers: Record<string, string>, name: string): string | SchemeFailure {
  const value = headerValue(headers, name)
  if (value === undefined) return missingHeader(name)
  const trimmed = value.trim()
  return trimmed === '' ? malformedHeader(name, 'is empty') : trimmed
}

/** Reads, checks the clock, then tries every secret against every claimed signature. */
export function verifyWithScheme(
  scheme: SchemeDefinition,
  check: SignatureCheck,
  request: SignedRequest,
): SignatureVerdict {
  if (check.secrets.length === 0) return NO_SECRET
  const parts = scheme.read(check, request.headers)
  if (!parts.ok) return parts
  const { timestamp } = parts
  if (timestamp !== undefined) {
    const clock = checkTimestamp(timestamp, request.nowSec, check.toleranceSec)
    if (clock) return clock
  }
  const secretIndex = matchingKey(parts, check.secrets.map(scheme.keyOf), request.rawBody)
  if (secretIndex >= 0)
    return timestamp === undefined ? { ok: true, secretIndex } : { ok: true, secretIndex, timestamp }
  const mismatch: SchemeFailure = {
    ok: false,
    code: 'mismatch',
    reason: `no configured secret (${check.secrets.length} tried) produces a signature in the ${scheme.header(check)} header`,
  }
  return timestamp === undefined ? mismatch : { ...mismatch, timestamp }
}
