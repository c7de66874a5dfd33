/** @module The impact preview's API call (POST /api/flows/:id/impact), typed from the runtime's route. */
import type { ImpactPreview } from '../../runtime/server/api/impact.ts'
import { ApiError, currentToken } from '../api/client.ts'

export type { FieldChange, ImpactEvent, ImpactPreview } from '../../runtime/server/api/impact.ts'

/** The route's own default and limit (DEFAULT_IMPACT_EVENTS, MAX_IMPACT_EVENTS): the module itself is not browser-safe. */
export const DEFAULT_EVENTS = 20
export const MAX_EVENTS = 500

export async function previewImpact(flowId: string, version: number, events: number): Promise<ImpactPreview> {
  const token = currentToken()
  let response: Response
  try {
    response = await fetch(`/api/flows/${encodeURIComponent(flowId)}/impact`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ version, events }),
    })
  } catch {
    throw new ApiError(0, 'network', 'The runtime cannot be reached. Is `mapper serve` running?')
  }
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `the impact preview answered ${response.status}`,
      error?.details,
    )
  }
  return parsed as ImpactPreview
}
