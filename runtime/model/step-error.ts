/** @module The one error type a node throws: it carries its category and its retry policy. Browser-safe. */
import type { ErrorCategory } from './types.ts'

export interface StepErrorOptions {
  /** The sender or downstream asked us to wait this long before the next attempt. */
  retryAfterMs?: number
  /** Field-level details, such as schema errors. */
  details?: unknown
  /** HTTP status of a downstream answer, when there was one. */
  status?: number
  cause?: unknown
}

export class StepError extends Error {
  readonly category: ErrorCategory
  readonly retryAfterMs: number | undefined
  readonly details: unknown
  readonly status: number | undefined

  constructor(category: ErrorCategory, message: string, options: StepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StepError'
    this.category = category
    this.retryAfterMs = options.retryAfterMs
    this.details = options.details
    this.status = options.status
  }

  toJSON(): StepErrorInfo {
    return {
      category: this.category,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    }
  }
}

/** The serialisable form of a StepError, as kept in step records and handed along error ports. */
export interface StepErrorInfo {
  category: ErrorCategory
  message: string
  details?: unknown
  status?: number
  retryAfterMs?: number
}

/** Anything that escapes a node without being a StepError is a bug: treated as non-retriable, never swallowed. */
export function asStepError(thrown: unknown): StepError {
  if (thrown instanceof StepError) return thrown
  const message = thrown instanceof Error ? thrown.message : String(thrown)
  return new StepError('non_retriable', `unexpected error: ${message}`, { cause: thrown })
}
