/** @module The empty, loading and error states every screen shows in one visual language. */
import type { ReactNode } from 'react'
import type { ApiError } from '../api/client.ts'

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  )
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div className="state-body">{children}</div>}
    </div>
  )
}

export function ErrorState({ error, retry }: { error: Error; retry?: () => void }) {
  const code = (error as Partial<ApiError>).code
  // Asking again for what does not exist will not find it: no retry on a 404.
  const retryable = retry && (error as Partial<ApiError>).status !== 404
  return (
    <div className="state state-error" role="alert">
      <strong>{titleOf(error)}</strong>
      <div className="state-body">
        {error.message}
        {code && <code className="error-code">{code}</code>}
      </div>
      {retryable && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  )
}

function titleOf(error: Error): string {
  const status = (error as Partial<ApiError>).status
  if (status === 403) return 'Your role may not see this'
  if (status === 404) return 'Not found'
  if (status === 0) return 'The runtime cannot be reached'
  return 'Something went wrong'
}
