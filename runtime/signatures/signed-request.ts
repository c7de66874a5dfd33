/** @module The request a signature is checked against, and case-insensitive header lookup. */

/** A delivery as the verifier sees it: headers (names in any case), the raw body, the clock. */
export interface SignedRequest {
  headers: Record<string, string>
  rawBody: string
  /** The receiver's clock, Unix seconds. */
  nowSec: number
}

/** The value of a header, whatever the case of its name in the record. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase()
  const exact = headers[wanted]
  if (exact !== undefined) return exact
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value
  }
  return undefined
}
