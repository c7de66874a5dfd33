/** @module Signature verification and signing, pinned to signatures made by independent code. */
import { createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import type { SignatureCheck } from '../../runtime/model/node-kind.ts'
import { signBearer } from '../../runtime/signatures/bearer.ts'
import { constantTimeEqual } from '../../runtime/signatures/constant-time.ts'
import { explainSignatureFailure, type SignatureDiagnosis } from '../../runtime/signatures/explain.ts'
import { fingerprint } from '../../runtime/signatures/fingerprint.ts'
import { signHmac } from '../../runtime/signatures/hmac.ts'
import { signDelivery, verifySignature } from '../../runtime/signatures/index.ts'
import { signStandardWebhooks } from '../../runtime/signatures/standard-webhooks.ts'
import { signStripe } from '../../runtime/signatures/stripe.ts'

interface Vector {
  id: string
  timestamp: number
  secret: string
  payload: string
  signature: string
}

function readVectors(file: string): Vector[] {
  const url = new URL(`../../../shared/vectors/standard-webhooks/${file}`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')) as Vector[]
}

const VECTORS = [...readVectors('signatures.json'), ...readVectors('extra-sign-cases.json')]

const NOW = 1_700_000_000
const TOLERANCE = 300
const BODY = '{"id":"evt_1","type":"report.completed","createdAt":"2024-05-01T10:00:00Z","data":{"reportId":"r_42"}}'
const SECRET = 'whsec_conduitSecretForTests0123456789'
const OLD_SECRET = 'whsec_previousConduitSecret9876543210'
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SW_OLD_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'

/** Stripe's signature, computed inline with Node's HMAC, independent of the code under test. */
function stripeHex(secret: string | Uint8Array, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
}

/** Standard Webhooks headers made by the official `standardwebhooks` library. */
function libraryHeaders(secret: string, id: string, t: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': new Webhook(secret).sign(id, new Date(t * 1000), body),
  }
}

function stripeCheck(overrides: Partial<SignatureCheck> = {}): SignatureCheck {
  return { scheme: 'stripe', header: 'conduit-signature', secrets: [SECRET], toleranceSec: TOLERANCE, ...overrides }
}

function standardCheck(overrides: Partial<SignatureCheck> = {}): SignatureCheck {
  return { scheme: 'standard-webhooks', secrets: [SW_SECRET], toleranceSec: TOLERANCE, ...overrides }
}

function hmacCheck(overrides: Partial<SignatureCheck> = {}): SignatureCheck {
  return { scheme: 'hmac', header: 'x-signature', secrets: [SECRET], toleranceSec: TOLERANCE, ...overrides }
}

function bearerCheck(overrides: Partial<SignatureCheck> = {}): SignatureCheck {
  return { scheme: 'bearer', secrets: ['tok_video_123'], toleranceSec: TOLERANCE, ...overrides }
}

function request(headers: Record<string, string>, rawBody = BODY, nowSec = NOW) {
  return { headers, rawBody, nowSec }
}

function flipSignatureChar(signature: string): string {
  // Flip a character in the middle: the last base64 character before `=` has unused bits.
  const at = Math.floor(signature.length / 2)
  const replacement = signature[at] === 'A' ? 'B' : 'A'
  return `${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`
}

describe('constant-time comparison', () => {
  it('says equal byte strings are equal and different ones are not', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true)
    expect(constantTimeEqual('abc', 'abd')).toBe(false)
    expect(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 2]))).toBe(true)
  })

  it('returns false without throwing when the lengths differ', () => {
    expect(() => constantTimeEqual('abc', 'abcd')).not.toThrow()
    expect(constantTimeEqual('abc', 'abcd')).toBe(false)
    expect(constantTimeEqual('', 'a')).toBe(false)
  })
})

describe('secret fingerprints', () => {
  it('are sha256: and twelve hex characters that depend on the secret and do not reveal it', () => {
    const print = fingerprint(SECRET)
    expect(print).toMatch(/^sha256:[0-9a-f]{12}$/)
    expect(print).toBe(`sha256:${createHash('sha256').update(SECRET).digest('hex').slice(0, 12)}`)
    expect(fingerprint(SECRET)).toBe(print)
    expect(fingerprint(OLD_SECRET)).not.toBe(print)
    expect(print).not.toContain(SECRET.slice(6, 14))
  })
})

describe('stripe scheme', () => {
  const t = NOW - 10
  const header = (hex: string, at = t) => ({ 'conduit-signature': `t=${at},v1=${hex}` })

  it('accepts a signature made with Node HMAC over <t>.<raw body> and reports the timestamp and the secret', () => {
    expect(verifySignature(stripeCheck(), request(header(stripeHex(SECRET, t, BODY))))).toEqual({
      ok: true,
      secretIndex: 0,
      timestamp: t,
    })
  })

  it('reads stripe-signature when no header is configured', () => {
    const headers = { 'stripe-signature': `t=${t},v1=${stripeHex(SECRET, t, BODY)}` }
    expect(verifySignature(stripeCheck({ header: undefined }), request(headers)).ok).toBe(true)
  })

  it('rejects a tampered body', () => {
    const verdict = verifySignature(stripeCheck(), request(header(stripeHex(SECRET, t, BODY)), `${BODY} `))
    expect(verdict).toMatchObject({ ok: false, code: 'mismatch', timestamp: t })
  })

  it('rejects a signature made with another secret', () => {
    const verdict = verifySignature(stripeCheck(), request(header(stripeHex('whsec_other', t, BODY))))
    expect(verdict).toMatchObject({ ok: false, code: 'mismatch' })
  })

  it('accepts a timestamp exactly at the tolerance in the past and rejects one a second older as stale', () => {
    const inside = NOW - TOLERANCE
    const outside = NOW - TOLERANCE - 1
    expect(verifySignature(stripeCheck(), request(header(stripeHex(SECRET, inside, BODY), inside))).ok).toBe(true)
    const verdict = verifySignature(stripeCheck(), request(header(stripeHex(SECRET, outside, BODY), outside)))
    expect(verdict).toMatchObject({ ok: false, code: 'stale_timestamp', timestamp: outside })
  })

  it('accepts a timestamp exactly at the tolerance in the future and rejects one a second further', () => {
    const inside = NOW + TOLERANCE
    const outside = NOW + TOLERANCE + 1
    expect(verifySignature(stripeCheck(), request(header(stripeHex(SECRET, inside, BODY), inside))).ok).toBe(true)
    const verdict = verifySignature(stripeCheck(), request(header(stripeHex(SECRET, outside, BODY), outside)))
    expect(verdict).toMatchObject({ ok: false, code: 'future_timestamp', timestamp: outside })
  })

  it('tries every v1 entry, accepting when the valid one comes second', () => {
    const value = `t=${t},v1=${stripeHex('whsec_wrong', t, BODY)},v1=${stripeHex(SECRET, t, BODY)}`
    expect(verifySignature(stripeCheck(), request({ 'conduit-signature': value }))).toMatchObject({ ok: true })
  })

  it('accepts the valid v1 entry when others follow it', () => {
    const value = `t=${t},v1=${stripeHex(SECRET, t, BODY)},v1=${stripeHex('whsec_wrong', t, BODY)},v1=00`
    expect(verifySignature(stripeCheck(), request({ 'conduit-signature': value }))).toMatchObject({ ok: true })
  })

  it('tolerates spaces around items and ignores unknown keys such as v0', () => {
    const value = ` t=${t} , v0=deadbeef ,  v1=${stripeHex(SECRET, t, BODY)} `
    expect(verifySignature(stripeCheck(), request({ 'conduit-signature': value })).ok).toBe(true)
  })

  it('accepts upper-case hex', () => {
    const hex = stripeHex(SECRET, t, BODY).toUpperCase()
    expect(verifySignature(stripeCheck(), request(header(hex))).ok).toBe(true)
  })

  it('reports which secret matched during a rotation: the old one is index 1', () => {
    const check = stripeCheck({ secrets: [SECRET, OLD_SECRET] })
    expect(verifySignature(check, request(header(stripeHex(OLD_SECRET, t, BODY))))).toEqual({
      ok: true,
      secretIndex: 1,
      timestamp: t,
    })
    expect(verifySignature(check, request(header(stripeHex(SECRET, t, BODY))))).toMatchObject({ secretIndex: 0 })
  })

  it('finds the header whatever the case of its name in the request or in the config', () => {
    const value = `t=${t},v1=${stripeHex(SECRET, t, BODY)}`
    expect(verifySignature(stripeCheck(), request({ 'Conduit-Signature': value })).ok).toBe(true)
    expect(
      verifySignature(stripeCheck({ header: 'CONDUIT-Signature' }), request({ 'conduit-SIGNATURE': value })).ok,
    ).toBe(true)
  })

  it('reports a missing header by name', () => {
    const verdict = verifySignature(stripeCheck(), request({ 'content-type': 'application/json' }))
    expect(verdict).toMatchObject({ ok: false, code: 'missing_header' })
    expect(verdict.ok ? '' : verdict.reason).toContain('conduit-signature')
  })

  it('reports a malformed header: no timestamp, a non-numeric timestamp, no v1, garbage, empty', () => {
    const hex = stripeHex(SECRET, t, BODY)
    for (const value of [`v1=${hex}`, `t=soon,v1=${hex}`, `t=${t},v0=${hex}`, 'garbage', '  ']) {
      const verdict = verifySignature(stripeCheck(), request({ 'conduit-signature': value }))
      expect(verdict, value).toMatchObject({ ok: false, code: 'malformed_header' })
    }
  })

  it('uses a whsec_ secret as its raw UTF-8 bytes, never base64-decoded', () => {
    const raw = stripeHex(Buffer.from(SW_SECRET, 'utf8'), t, BODY)
    const decoded = stripeHex(Buffer.from(SW_SECRET.slice(6), 'base64'), t, BODY)
    const check = stripeCheck({ secrets: [SW_SECRET] })
    expect(verifySignature(check, request(header(raw))).ok).toBe(true)
    expect(verifySignature(check, request(header(decoded)))).toMatchObject({ ok: false, code: 'mismatch' })
  })

  it('answers no_secret when no secret is configured', () => {
    const verdict = verifySignature(stripeCheck({ secrets: [] }), request(header(stripeHex(SECRET, t, BODY))))
    expect(verdict).toMatchObject({ ok: false, code: 'no_secret' })
  })

  it('signs the same header value as an independent HMAC', () => {
    expect(signStripe(SECRET, BODY, t)).toBe(`t=${t},v1=${stripeHex(SECRET, t, BODY)}`)
  })

  it('never puts the secret or the expected signature in a failure reason', () => {
    const expected = stripeHex(SECRET, t, BODY)
    const verdict = verifySignature(stripeCheck(), request(header(expected), `${BODY}x`))
    const reason = verdict.ok ? '' : verdict.reason
    expect(reason).not.toContain(SECRET)
    expect(reason).not.toContain(stripeHex(SECRET, t, `${BODY}x`))
  })
})

describe('standard-webhooks scheme: official vectors', () => {
  for (const vector of VECTORS) {
    const check = standardCheck({ secrets: [vector.secret] })
    const headers = (over: Partial<Record<string, string>> = {}) => ({
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': vector.signature,
      ...over,
    })
    const at = (h: Record<string, string>, payload = vector.payload) => request(h, payload, vector.timestamp)

    it(`accepts vector ${vector.id} at its own timestamp`, () => {
      expect(verifySignature(check, at(headers()))).toEqual({ ok: true, secretIndex: 0, timestamp: vector.timestamp })
    })

    it(`rejects vector ${vector.id} once its payload, id, timestamp or signature changes`, () => {
      const changed = [
        at(headers(), `${vector.payload} `),
        at(headers({ 'webhook-id': `${vector.id}x` })),
        at(headers({ 'webhook-timestamp': String(vector.timestamp + 1) })),
        at(headers({ 'webhook-signature': flipSignatureChar(vector.signature) })),
      ]
      for (const changedRequest of changed) {
        expect(verifySignature(check, changedRequest)).toMatchObject({ ok: false, code: 'mismatch' })
      }
    })

    it(`reproduces the signature of vector ${vector.id}`, () => {
      expect(signStandardWebhooks(vector.secret, vector.id, vector.timestamp, vector.payload)).toBe(vector.signature)
    })
  }
})

describe('standard-webhooks scheme', () => {
  const t = NOW - 10
  const id = 'msg_2LJXbLSjVY3vT2CUbB4LeTvCXYH'

  it('accepts headers signed by the standardwebhooks library', () => {
    expect(verifySignature(standardCheck(), request(libraryHeaders(SW_SECRET, id, t, BODY)))).toEqual({
      ok: true,
      secretIndex: 0,
      timestamp: t,
    })
  })

  it('accepts a secret given without the whsec_ prefix', () => {
    const check = standardCheck({ secrets: [SW_SECRET.slice(6)] })
    expect(verifySignature(check, request(libraryHeaders(SW_SECRET, id, t, BODY))).ok).toBe(true)
  })

  it('rejects a tampered body and a wrong secret', () => {
    const headers = libraryHeaders(SW_SECRET, id, t, BODY)
    expect(verifySignature(standardCheck(), request(headers, `${BODY}\n`))).toMatchObject({ code: 'mismatch' })
    const other = libraryHeaders(SW_OLD_SECRET, id, t, BODY)
    expect(verifySignature(standardCheck(), request(other))).toMatchObject({ code: 'mismatch' })
  })

  it('accepts timestamps just inside the tolerance both ways and rejects those just outside', () => {
    const verdictAt = (ts: number) => verifySignature(standardCheck(), request(libraryHeaders(SW_SECRET, id, ts, BODY)))
    expect(verdictAt(NOW - TOLERANCE).ok).toBe(true)
    expect(verdictAt(NOW + TOLERANCE).ok).toBe(true)
    expect(verdictAt(NOW - TOLERANCE - 1)).toMatchObject({ ok: false, code: 'stale_timestamp' })
    expect(verdictAt(NOW + TOLERANCE + 1)).toMatchObject({ ok: false, code: 'future_timestamp' })
  })

  it('tries every space-separated v1 signature and ignores other versions such as v1a', () => {
    const headers = libraryHeaders(SW_SECRET, id, t, BODY)
    const valid = headers['webhook-signature'] ?? ''
    const wrong = libraryHeaders(SW_OLD_SECRET, id, t, BODY)['webhook-signature'] ?? ''
    for (const list of [`v1a,${valid.slice(3)} ${wrong}  ${valid}`, `${valid} ${wrong} v2,abc`]) {
      expect(verifySignature(standardCheck(), request({ ...headers, 'webhook-signature': list })).ok, list).toBe(true)
    }
  })

  it('treats a list with only non-v1 entries, or no entries at all, as malformed', () => {
    const headers = libraryHeaders(SW_SECRET, id, t, BODY)
    const valid = headers['webhook-signature'] ?? ''
    for (const list of [`v1a,${valid.slice(3)}`, 'notalist']) {
      const verdict = verifySignature(standardCheck(), request({ ...headers, 'webhook-signature': list }))
      expect(verdict, list).toMatchObject({ ok: false, code: 'malformed_header' })
    }
  })

  it('treats a non-numeric webhook-timestamp as malformed', () => {
    const headers = { ...libraryHeaders(SW_SECRET, id, t, BODY), 'webhook-timestamp': '2024-05-01T10:00:00Z' }
    expect(verifySignature(standardCheck(), request(headers))).toMatchObject({ ok: false, code: 'malformed_header' })
  })

  it('reports each missing header by name', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers = libraryHeaders(SW_SECRET, id, t, BODY)
      delete headers[name]
      const verdict = verifySignature(standardCheck(), request(headers))
      expect(verdict).toMatchObject({ ok: false, code: 'missing_header' })
      expect(verdict.ok ? '' : verdict.reason).toContain(name)
    }
  })

  it('reads the signature from a configured header, keeping webhook-id and webhook-timestamp', () => {
    const { 'webhook-signature': signature = '', ...rest } = libraryHeaders(SW_SECRET, id, t, BODY)
    const check = standardCheck({ header: 'x-acme-signature' })
    expect(verifySignature(check, request({ ...rest, 'x-acme-signature': signature })).ok).toBe(true)
  })

  it('reports the old secret as index 1 during a rotation', () => {
    const check = standardCheck({ secrets: [SW_SECRET, SW_OLD_SECRET] })
    expect(verifySignature(check, request(libraryHeaders(SW_OLD_SECRET, id, t, BODY)))).toMatchObject({
      ok: true,
      secretIndex: 1,
    })
  })

  it('finds the headers whatever the case of their names', () => {
    const headers = libraryHeaders(SW_SECRET, id, t, BODY)
    const mixed = {
      'Webhook-Id': headers['webhook-id'] ?? '',
      'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'] ?? '',
      'Webhook-Signature': headers['webhook-signature'] ?? '',
    }
    expect(verifySignature(standardCheck(), request(mixed)).ok).toBe(true)
  })

  it('signs deliveries that the standardwebhooks library verifies', () => {
    const now = Math.floor(Date.now() / 1000)
    const headers = signDelivery('standard-webhooks', SW_SECRET, BODY, { timestampSec: now })
    expect(headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/)
    expect(headers['webhook-timestamp']).toBe(String(now))
    expect(new Webhook(SW_SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY))
  })
})

describe('hmac scheme', () => {
  const digest = (algorithm: string, encoding: 'hex' | 'base64', secret = SECRET, body = BODY) =>
    createHmac(algorithm, secret).update(body).digest(encoding)

  it('accepts a hex HMAC-SHA256 of the raw body by default', () => {
    expect(verifySignature(hmacCheck(), request({ 'x-signature': digest('sha256', 'hex') }))).toEqual({
      ok: true,
      secretIndex: 0,
    })
  })

  it('accepts sha1 and sha512 when configured', () => {
    for (const algorithm of ['sha1', 'sha512'] as const) {
      const check = hmacCheck({ algorithm })
      expect(verifySignature(check, request({ 'x-signature': digest(algorithm, 'hex') })).ok, algorithm).toBe(true)
    }
  })

  it('accepts base64 digests when configured', () => {
    const check = hmacCheck({ encoding: 'base64' })
    expect(verifySignature(check, request({ 'x-signature': digest('sha256', 'base64') })).ok).toBe(true)
  })

  it('strips a configured prefix such as sha256= before comparing', () => {
    const check = hmacCheck({ header: 'x-hub-signature-256', prefix: 'sha256=' })
    const headers = { 'X-Hub-Signature-256': `sha256=${digest('sha256', 'hex')}` }
    expect(verifySignature(check, request(headers)).ok).toBe(true)
  })

  it('treats a header without the configured prefix as malformed', () => {
    const check = hmacCheck({ prefix: 'sha256=' })
    const verdict = verifySignature(check, request({ 'x-signature': digest('sha256', 'hex') }))
    expect(verdict).toMatchObject({ ok: false, code: 'malformed_header' })
  })

  it('treats a value that is not in the configured encoding as malformed', () => {
    expect(verifySignature(hmacCheck(), request({ 'x-signature': 'not-hex!' }))).toMatchObject({
      code: 'malformed_header',
    })
  })

  it('compares hex case-insensitively', () => {
    const headers = { 'x-signature': digest('sha256', 'hex').toUpperCase() }
    expect(verifySignature(hmacCheck(), request(headers)).ok).toBe(true)
  })

  it('rejects a tampered body, a wrong secret and a digest of another algorithm', () => {
    const tampered = request({ 'x-signature': digest('sha256', 'hex') }, `${BODY} `)
    expect(verifySignature(hmacCheck(), tampered)).toMatchObject({ code: 'mismatch' })
    const wrongSecret = request({ 'x-signature': digest('sha256', 'hex', OLD_SECRET) })
    expect(verifySignature(hmacCheck(), wrongSecret)).toMatchObject({ code: 'mismatch' })
    const sha1 = request({ 'x-signature': digest('sha1', 'hex') })
    expect(verifySignature(hmacCheck(), sha1)).toMatchObject({ code: 'mismatch' })
  })

  it('needs a configured header and says so', () => {
    const verdict = verifySignature(
      hmacCheck({ header: undefined }),
      request({ 'x-signature': digest('sha256', 'hex') }),
    )
    expect(verdict).toMatchObject({ ok: false, code: 'missing_header' })
    expect(verdict.ok ? '' : verdict.reason).toMatch(/header/)
  })

  it('reports a missing header and the old secret of a rotation', () => {
    expect(verifySignature(hmacCheck(), request({}))).toMatchObject({ code: 'missing_header' })
    const check = hmacCheck({ secrets: [SECRET, OLD_SECRET] })
    const headers = { 'x-signature': digest('sha256', 'hex', OLD_SECRET) }
    expect(verifySignature(check, request(headers))).toEqual({ ok: true, secretIndex: 1 })
  })

  it('signs what an independent HMAC computes, with the prefix', () => {
    expect(signHmac(SECRET, BODY)).toBe(digest('sha256', 'hex'))
    expect(signHmac(SECRET, BODY, { algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' })).toBe(
      `sha512=${digest('sha512', 'base64')}`,
    )
  })
})

describe('bearer scheme', () => {
  it('accepts Authorization: Bearer <secret>', () => {
    expect(verifySignature(bearerCheck(), request({ Authorization: 'Bearer tok_video_123' }))).toEqual({
      ok: true,
      secretIndex: 0,
    })
  })

  it('rejects a wrong token', () => {
    const verdict = verifySignature(bearerCheck(), request({ authorization: 'Bearer tok_video_124' }))
    expect(verdict).toMatchObject({ ok: false, code: 'mismatch' })
    expect(verdict.ok ? '' : verdict.reason).not.toContain('tok_video_123')
  })

  it('reports a missing header', () => {
    expect(verifySignature(bearerCheck(), request({}))).toMatchObject({ ok: false, code: 'missing_header' })
  })

  it('treats a credential that is not Bearer as malformed', () => {
    for (const value of ['tok_video_123', 'Basic dG9rOnZpZGVv', 'Bearer']) {
      const verdict = verifySignature(bearerCheck(), request({ authorization: value }))
      expect(verdict, value).toMatchObject({ ok: false, code: 'malformed_header' })
    }
  })

  it('reads a configured header and reports the old secret of a rotation', () => {
    const check = bearerCheck({ header: 'x-webhook-token', secrets: ['tok_new', 'tok_video_123'] })
    expect(verifySignature(check, request({ 'X-Webhook-Token': 'Bearer tok_video_123' }))).toEqual({
      ok: true,
      secretIndex: 1,
    })
  })

  it('signs as Bearer <secret>', () => {
    expect(signBearer('tok_video_123')).toBe('Bearer tok_video_123')
  })
})

describe('signDelivery', () => {
  it('gives the stripe header under its configured or default lower-case name', () => {
    expect(signDelivery('stripe', SECRET, BODY, { timestampSec: NOW, header: 'Conduit-Signature' })).toEqual({
      'conduit-signature': `t=${NOW},v1=${stripeHex(SECRET, NOW, BODY)}`,
    })
    expect(Object.keys(signDelivery('stripe', SECRET, BODY, { timestampSec: NOW }))).toEqual(['stripe-signature'])
  })

  it('gives Standard Webhooks headers with the given id', () => {
    const headers = signDelivery('standard-webhooks', SW_SECRET, BODY, { timestampSec: NOW, id: 'msg_fixed' })
    expect(headers).toEqual(libraryHeaders(SW_SECRET, 'msg_fixed', NOW, BODY))
  })

  it('gives the hmac header with prefix and digest, and refuses to sign without a header name', () => {
    const options = { timestampSec: NOW, header: 'X-Hub-Signature-256', prefix: 'sha256=' }
    expect(signDelivery('hmac', SECRET, BODY, options)).toEqual({
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(BODY).digest('hex')}`,
    })
    expect(() => signDelivery('hmac', SECRET, BODY, { timestampSec: NOW })).toThrow(/header/)
  })

  it('gives authorization: Bearer <secret>', () => {
    expect(signDelivery('bearer', 'tok_video_123', BODY, { timestampSec: NOW })).toEqual({
      authorization: 'Bearer tok_video_123',
    })
  })

  it('produces headers that verify under every scheme', () => {
    const checks = [stripeCheck(), standardCheck(), hmacCheck({ prefix: 'sha1=', algorithm: 'sha1' }), bearerCheck()]
    for (const check of checks) {
      const secret = check.secrets[0] ?? ''
      const headers = signDelivery(check.scheme, secret, BODY, { ...check, timestampSec: NOW })
      expect(verifySignature(check, request(headers)), check.scheme).toMatchObject({ ok: true, secretIndex: 0 })
    }
  })
})

describe('explainSignatureFailure', () => {
  const t = NOW - 10
  const causes = (diagnosis: SignatureDiagnosis) => diagnosis.findings.map((finding) => finding.cause)
  const stripeHeaders = (secret: string | Uint8Array, body: string, at = t) => ({
    'conduit-signature': `t=${at},v1=${stripeHex(secret, at, body)}`,
  })
  const pretty = JSON.stringify(JSON.parse(BODY), null, 2)

  it('says ok with no findings when the signature is valid', () => {
    const diagnosis = explainSignatureFailure(stripeCheck(), request(stripeHeaders(SECRET, BODY)))
    expect(diagnosis).toMatchObject({ code: 'ok', findings: [] })
  })

  it('detects a body that a proxy re-serialised after it was signed', () => {
    const diagnosis = explainSignatureFailure(stripeCheck(), request(stripeHeaders(SECRET, BODY), pretty))
    expect(diagnosis.code).toBe('mismatch')
    expect(causes(diagnosis)).toEqual(['reserialised_body'])
  })

  it('detects a sender that signed a 2-space pretty form of the body it sent compact', () => {
    const diagnosis = explainSignatureFailure(hmacCheck(), request({ 'x-signature': signHex(SECRET, pretty) }))
    expect(causes(diagnosis)).toEqual(['reserialised_body'])
  })

  it('detects a sender that base64-decoded a whsec_ secret for the stripe scheme', () => {
    const decoded = Buffer.from(SW_SECRET.slice(6), 'base64')
    const check = stripeCheck({ secrets: [SW_SECRET] })
    const diagnosis = explainSignatureFailure(check, request(stripeHeaders(decoded, BODY)))
    expect(causes(diagnosis)).toEqual(['secret_encoding'])
    expect(diagnosis.findings[0]?.detail).toContain(fingerprint(SW_SECRET))
  })

  it('detects a sender that base64-decoded a whsec_ secret for the hmac scheme', () => {
    const decoded = Buffer.from(SW_SECRET.slice(6), 'base64')
    const check = hmacCheck({ secrets: [SW_SECRET] })
    const headers = { 'x-signature': createHmac('sha256', decoded).update(BODY).digest('hex') }
    expect(causes(explainSignatureFailure(check, request(headers)))).toEqual(['secret_encoding'])
  })

  it('detects a Standard Webhooks sender that used the whsec_ secret as raw UTF-8', () => {
    const rawKey = Buffer.from(SW_SECRET, 'utf8')
    const signature = new Webhook(rawKey, { format: 'raw' }).sign('msg_raw', new Date(t * 1000), BODY)
    const headers = { 'webhook-id': 'msg_raw', 'webhook-timestamp': String(t), 'webhook-signature': signature }
    const diagnosis = explainSignatureFailure(standardCheck(), request(headers))
    expect(causes(diagnosis)).toEqual(['secret_encoding'])
    expect(diagnosis.clockOffsetSec).toBe(-10)
  })

  it('detects a configured secret with a trailing newline', () => {
    const check = stripeCheck({ secrets: [`${SECRET}\n`] })
    const diagnosis = explainSignatureFailure(check, request(stripeHeaders(SECRET, BODY)))
    expect(causes(diagnosis)).toEqual(['secret_whitespace'])
  })

  it('reports clock skew with the offset when only the clock is wrong', () => {
    const stale = explainSignatureFailure(stripeCheck(), request(stripeHeaders(SECRET, BODY, NOW - 400)))
    expect(stale).toMatchObject({ code: 'stale_timestamp', clockOffsetSec: -400 })
    expect(causes(stale)).toEqual(['clock_skew'])
    expect(stale.findings[0]?.detail).toContain('400 s behind')
    const future = explainSignatureFailure(
      standardCheck(),
      request(libraryHeaders(SW_SECRET, 'msg_1', NOW + 900, BODY)),
    )
    expect(future).toMatchObject({ code: 'future_timestamp', clockOffsetSec: 900 })
    expect(causes(future)).toEqual(['clock_skew'])
  })

  it('reports clock skew and a wrong secret together', () => {
    const diagnosis = explainSignatureFailure(stripeCheck(), request(stripeHeaders(OLD_SECRET, BODY, NOW - 400)))
    expect(causes(diagnosis)).toEqual(['clock_skew', 'no_match'])
  })

  it('names the Standard Webhooks headers of a request checked with the stripe scheme', () => {
    const headers = libraryHeaders(SW_SECRET, 'msg_1', t, BODY)
    const diagnosis = explainSignatureFailure(stripeCheck(), request(headers))
    expect(diagnosis.code).toBe('missing_header')
    expect(causes(diagnosis)).toEqual(['missing_header', 'wrong_scheme'])
    expect(diagnosis.findings[1]?.detail).toContain('webhook-signature')
  })

  it('names the header that carries a stripe signature when another is configured', () => {
    const headers = { 'Mappa-Signature': `t=${t},v1=${stripeHex(SECRET, t, BODY)}` }
    const diagnosis = explainSignatureFailure(stripeCheck(), request(headers))
    expect(causes(diagnosis)).toEqual(['missing_header', 'wrong_header'])
    expect(diagnosis.findings[1]?.detail).toContain('mappa-signature')
  })

  it('names a stripe signature that an hmac node finds in another header', () => {
    const diagnosis = explainSignatureFailure(hmacCheck(), request(stripeHeaders(SECRET, BODY)))
    expect(diagnosis.code).toBe('missing_header')
    expect(causes(diagnosis)).toEqual(['missing_header', 'wrong_scheme'])
    expect(diagnosis.findings[1]?.detail).toContain('conduit-signature')
  })

  it('spots a stripe-style value in the very header an hmac node reads', () => {
    const check = hmacCheck({ header: 'conduit-signature' })
    const diagnosis = explainSignatureFailure(check, request(stripeHeaders(SECRET, BODY)))
    expect(diagnosis.code).toBe('malformed_header')
    expect(causes(diagnosis)).toEqual(['wrong_scheme'])
  })

  it('points an hmac node that misses its header at another signature header', () => {
    const headers = { 'x-hub-signature-256': `sha256=${signHex(SECRET, BODY)}` }
    const diagnosis = explainSignatureFailure(hmacCheck(), request(headers))
    expect(causes(diagnosis)).toEqual(['missing_header', 'wrong_header'])
    expect(diagnosis.findings[1]?.detail).toContain('x-hub-signature-256')
  })

  it('names the header that carries the Bearer token when another is configured', () => {
    const diagnosis = explainSignatureFailure(bearerCheck(), request({ 'X-Token': 'Bearer tok_video_123' }))
    expect(causes(diagnosis)).toEqual(['missing_header', 'wrong_header'])
    expect(diagnosis.findings[1]?.detail).toContain('x-token')
  })

  it('reports a missing bearer token', () => {
    const diagnosis = explainSignatureFailure(bearerCheck(), request({ 'content-type': 'application/json' }))
    expect(causes(diagnosis)).toEqual(['missing_header'])
  })

  it('reports no match when no variant of any secret fits', () => {
    const check = stripeCheck({ secrets: [SECRET, OLD_SECRET] })
    const diagnosis = explainSignatureFailure(check, request(stripeHeaders('whsec_unknown', BODY)))
    expect(causes(diagnosis)).toEqual(['no_match'])
    expect(diagnosis.secretsTried).toEqual([fingerprint(SECRET), fingerprint(OLD_SECRET)])
  })

  it('never puts a secret or an expected signature in any diagnosis', () => {
    const decoded = Buffer.from(SW_SECRET.slice(6), 'base64')
    const cases: Array<[SignatureCheck, ReturnType<typeof request>]> = [
      [stripeCheck(), request(stripeHeaders(SECRET, BODY), pretty)],
      [stripeCheck({ secrets: [SW_SECRET] }), request(stripeHeaders(decoded, BODY))],
      [stripeCheck({ secrets: [`${SECRET}\n`, OLD_SECRET] }), request(stripeHeaders(SECRET, BODY, NOW - 999))],
      [standardCheck({ secrets: [SW_SECRET, SW_OLD_SECRET] }), request(libraryHeaders('whsec_AAAA', 'msg_1', t, BODY))],
      [hmacCheck(), request({ 'x-signature': signHex(OLD_SECRET, BODY) })],
      [bearerCheck(), request({ authorization: 'Bearer wrong' })],
      [bearerCheck(), request({ 'x-token': 'Bearer tok_video_123' })],
    ]
    for (const [check, req] of cases) {
      const text = JSON.stringify(explainSignatureFailure(check, req))
      for (const secret of check.secrets) {
        expect(text).not.toContain(secret)
        expect(text).not.toContain(secret.trim())
        expect(text).not.toContain(secret.slice(6))
        expect(text).not.toContain(stripeHex(secret, t, BODY))
        expect(text).not.toContain(signHex(secret, BODY))
      }
    }
  })
})

function signHex(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}
