/** @module A short, one-way name for a secret, safe to show to operators and to write in logs. */
import { createHash } from 'node:crypto'

const FINGERPRINT_HEX_CHARS = 12

/** `sha256:` and the first 12 hex characters of the secret's SHA-256: tells secrets apart without revealing them. */
export function fingerprint(secret: string): string {
  const digest = createHash('sha256').update(secret, 'utf8').digest('hex')
  return `sha256:${digest.slice(0, FINGERPRINT_HEX_CHARS)}`
}
