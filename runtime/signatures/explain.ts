/** @module Why a signature failed, for operators: clock skew, re-serialised body, secret encoding, wrong header. */
import type { SignatureCheck, SignatureScheme } from '../model/node-kind.ts'
import { fingerprint } from './fingerprint.ts'
import { matchingKey, type SchemeDefinition, type SchemeFailure, type SignedParts, verifyWithScheme } from './scheme.ts'
import { signatureSchemes } from './schemes.ts'
import type { SignedRequest } from './signed-request.ts'
import { STANDARD_WEBHOOKS_SECRET_PREFIX } from './standard-webhooks.ts'

export type SignatureFindingCause =
  | 'clock_skew'
  | 'reserialised_body'
  | 'secret_encoding'
  | 'secret_whitespace'
  | 'wrong_scheme'
  | 'wrong_header'
  | 'missing_header'
  | 'no_match'

export interface SignatureFinding {
  cause: SignatureFindingCause
  detail: string
}

export interface SignatureDiagnosis {
  code: SchemeFailure['code'] | 'ok'
  reason: string
  /** The request's timestamp minus the receiver's clock, when a timestamp header parsed. */
  clockOffsetSec?: number
  findings: SignatureFinding[]
  /** Fingerprints of the configured secrets, in order. */
  secretsTried: string[]
}

/** A way the request could have been signed, and what it would tell the operator if it matched. */
interface Variant<T> {
  value: T
  findings: SignatureFinding[]
}

const STRIPE_VALUE = /^\s*t=\d+\s*,.*\bv1=/
const STANDARD_WEBHOOKS_VALUE = /^v1,[A-Za-z0-9+/]+=*(\s|$)/
const BEARER_VALUE = /^bearer\s/i
const SCHEME_TITLES: Record<SignatureScheme, string> = {
  stripe: 'a stripe-style signature (t=…,v1=…)',
  'standard-webhooks': 'a Standard Webhooks signature (v1,<base64>)',
  hmac: 'an hmac signature',
  bearer: 'a Bearer token',
}

function secretLabel(check: SignatureCheck, index: number, secret: string): string {
  return `secret ${index + 1} of ${check.secrets.length} (${fingerprint(secret)})`
}

/** The scheme a header's name or value gives away, if any. */
function schemeOfHeader(name: string, value: string): SignatureScheme | undefined {
  if (STRIPE_VALUE.test(value) || name === 'stripe-signature') return 'stripe'
  if (STANDARD_WEBHOOKS_VALUE.test(value) || name === 'webhook-signature') return 'standard-webhooks'
  if (BEARER_VALUE.test(value)) return 'bearer'
  return undefined
}

interface HeaderSeen {
  name: string
  value: string
  /** The configured signature header is absent (or none is configured). */
  configuredMissing: boolean
}

function headerFinding(check: SignatureCheck, configured: string | undefined, seen: HeaderSeen) {
  const { name, value } = seen
  const scheme = schemeOfHeader(name, value)
  const where = configured === undefined ? 'no header is configured' : `the verify node reads ${configured}`
  if (scheme === check.scheme) {
    if (name === configured) return undefined
    return finding('wrong_header', `${SCHEME_TITLES[scheme]} is in header ${name}, but ${where}`)
  }
  if (scheme !== undefined) {
    return finding(
      'wrong_scheme',
      `header ${name} holds ${SCHEME_TITLES[scheme]}, but the verify node uses the ${check.scheme} scheme`,
    )
  }
  if (seen.configuredMissing && name.includes('signature')) {
    return finding('wrong_header', `header ${name} looks like a signature header, but ${where}`)
  }
  return undefined
}

function finding(cause: SignatureFindingCause, detail: string): SignatureFinding {
  return { cause, detail }
}

/** Signatures of another scheme, or of this scheme in another header; names headers, never their values. */
function headerFindings(check: SignatureCheck, headers: Record<string, string>, verdict: SchemeFailure) {
  const configured = signatureSchemes[check.scheme].header(check)?.toLowerCase()
  const configuredMissing = verdict.code === 'missing_header'
  const unusable = configuredMissing || verdict.code === 'malformed_header'
  const findings: SignatureFinding[] = []
  if (configuredMissing) findings.push(finding('missing_header', verdict.reason))
  for (const [rawName, value] of Object.entries(headers)) {
    // A Bearer credential is common for other reasons; only a hint when the signature itself is unusable.
    if (!unusable && BEARER_VALUE.test(value)) continue
    const found = headerFinding(check, configured, { name: rawName.toLowerCase(), value, configuredMissing })
    if (found) findings.push(found)
  }
  return findings
}

function clockFinding(offset: number, toleranceSec: number): SignatureFinding {
  const direction = offset < 0 ? `${-offset} s behind` : `${offset} s ahead of`
  return {
    cause: 'clock_skew',
    detail: `the signed timestamp is ${direction} this server's clock, beyond the ${toleranceSec} s tolerance: a skewed clock on either side, or an old delivery replayed`,
  }
}

function bodyVariants(rawBody: string): Variant<string>[] {
  const variants: Variant<string>[] = [{ value: rawBody, findings: [] }]
  let parsed: unknown
  try {
    parsed = JSON.parse(rawBody)
  } catch {
    return variants
  }
  const forms = [
    { value: JSON.stringify(parsed), form: 'compact JSON' },
    { value: JSON.stringify(parsed, null, 2), form: 'JSON indented by 2 spaces' },
  ]
  for (const { value, form } of forms) {
    if (value === rawBody) continue
    const detail = `the signature matches the body re-serialised as ${form}: the sender signed a re-serialised body, or a proxy re-serialised it in transit; verify the raw bytes as sent`
    variants.push({ value, findings: [{ cause: 'reserialised_body', detail }] })
  }
  return variants
}

/** The other keys a secret may have been used as by a sender who encodes it differently. */
function encodingVariants(scheme: SignatureScheme, secret: string, label: string): Variant<Uint8Array>[] {
  const prefix = STANDARD_WEBHOOKS_SECRET_PREFIX
  if (scheme === 'standard-webhooks') {
    const detail = `${label} matches when used as raw UTF-8 bytes instead of base64-decoded: the sender does not decode the ${prefix} secret`
    const raws = secret.startsWith(prefix) ? [secret, secret.slice(prefix.length)] : [secret]
    return raws.map((raw) => ({ value: Buffer.from(raw, 'utf8'), findings: [{ cause: 'secret_encoding', detail }] }))
  }
  if ((scheme === 'stripe' || scheme === 'hmac') && secret.startsWith(prefix)) {
    const detail = `${label} matches when its ${prefix} part is base64-decoded: the sender decodes the secret, while the ${scheme} scheme uses it as raw UTF-8`
    return [
      { value: Buffer.from(secret.slice(prefix.length), 'base64'), findings: [{ cause: 'secret_encoding', detail }] },
    ]
  }
  return []
}

/** Every key a configured secret may stand for: as configured, trimmed, re-encoded. */
function keyVariants(check: SignatureCheck, scheme: SchemeDefinition): Variant<Uint8Array>[] {
  return check.secrets.flatMap((secret, index) => {
    const label = secretLabel(check, index, secret)
    const forms: Variant<string>[] = [{ value: secret, findings: [] }]
    const trimmed = secret.trim()
    if (trimmed !== secret) {
      const detail = `${label} has leading or trailing whitespace (a newline from a file or an environment variable?); it matches once trimmed`
      forms.push({ value: trimmed, findings: [{ cause: 'secret_whitespace', detail }] })
    }
    return forms.flatMap((form) => [
      { value: scheme.keyOf(form.value), findings: form.findings },
      ...encodingVariants(check.scheme, form.value, label).map((variant) => ({
        value: variant.value,
        findings: [...form.findings, ...variant.findings],
      })),
    ])
  })
}

/** The findings of the first key and body variant that would have matched, or undefined. */
function matchingVariant(check: SignatureCheck, parts: SignedParts, rawBody: string): SignatureFinding[] | undefined {
  const scheme = signatureSchemes[check.scheme]
  for (const key of keyVariants(check, scheme)) {
    for (const body of bodyVariants(rawBody)) {
      if (matchingKey(parts, [key.value], body.value) >= 0) return [...key.findings, ...body.findings]
    }
  }
  return undefined
}

function noMatchFinding(check: SignatureCheck): SignatureFinding {
  const header = signatureSchemes[check.scheme].header(check)
  return {
    cause: 'no_match',
    detail: `none of the ${check.secrets.length} secrets produces the signature in ${header}, even with the body re-serialised or the secret trimmed or re-encoded: the sender uses another secret, or the body changed in transit`,
  }
}

function signatureFindings(check: SignatureCheck, parts: SignedParts, request: SignedRequest): SignatureFinding[] {
  const findings: SignatureFinding[] = []
  if (parts.timestamp !== undefined) {
    const offset = parts.timestamp - request.nowSec
    if (Math.abs(offset) > check.toleranceSec) findings.push(clockFinding(offset, check.toleranceSec))
  }
  const variant = matchingVariant(check, parts, request.rawBody)
  findings.push(...(variant ?? [noMatchFinding(check)]))
  return findings
}

function diagnose(check: SignatureCheck, request: SignedRequest, verdict: SchemeFailure): SignatureDiagnosis {
  const diagnosis: SignatureDiagnosis = {
    code: verdict.code,
    reason: verdict.reason,
    findings: headerFindings(check, request.headers, verdict),
    secretsTried: check.secrets.map(fingerprint),
  }
  if (verdict.code === 'no_secret') return diagnosis
  const parts = signatureSchemes[check.scheme].read(check, request.headers)
  if (!parts.ok) return diagnosis
  if (parts.timestamp !== undefined) diagnosis.clockOffsetSec = parts.timestamp - request.nowSec
  diagnosis.findings.push(...signatureFindings(check, parts, request))
  return diagnosis
}

/** Explains a failed verification; a valid request gets code `ok` and no findings. Never shows a secret or a signature. */
export function explainSignatureFailure(check: SignatureCheck, request: SignedRequest): SignatureDiagnosis {
  const verdict = verifyWithScheme(signatureSchemes[check.scheme], check, request)
  if (verdict.ok) {
    return { code: 'ok', reason: 'the signature is valid', findings: [], secretsTried: check.secrets.map(fingerprint) }
  }
  return diagnose(check, request, verdict)
}
