/** @module Paging shared by every store: page sizes and the opaque cursor of newest-first lists. */

export const DEFAULT_PAGE_LIMIT = 50
export const MAX_PAGE_LIMIT = 500

/** A requested page size, clamped to 1…MAX_PAGE_LIMIT (DEFAULT_PAGE_LIMIT when absent or not a number). */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_LIMIT
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit)))
}

/** Where a newest-first page ended: the time and id of its last row (ids break ties between equal times). */
export interface CursorPosition {
  at: string
  id: string
}

export class InvalidCursor extends Error {
  constructor(cursor: string) {
    super(`invalid cursor ${JSON.stringify(cursor.slice(0, 80))}`)
    this.name = 'InvalidCursor'
  }
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id]), 'utf8').toString('base64url')
}

/** Reads a cursor from encodeCursor; anything else throws InvalidCursor (a 400 for the API). */
export function decodeCursor(cursor: string): CursorPosition {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursor(cursor)
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new InvalidCursor(cursor)
  const [at, id] = decoded as unknown[]
  if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) throw new InvalidCursor(cursor)
  return { at, id }
}
