/** @module Masks credentials and signatures in stored and logged request headers. */

const MASKED =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token)$|signature|secret|token|password/i

/** Keeps enough of a signature header to tell deliveries apart (its timestamp part), never the credential. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  const masked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    masked[name] = MASKED.test(name) ? maskValue(value) : value
  }
  return masked
}

function maskValue(value: string): string {
  const timestamp = /(?:^|,)\s*t=(\d+)/.exec(value)
  return timestamp ? `t=${timestamp[1]},[masked]` : '[masked]'
}
