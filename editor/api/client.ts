/** @module The typed admin API client: one function per route of SPEC §6, errors as `ApiError`. */
import type { ImpactPreview } from '../../runtime/server/api/impact.ts'
import type {
  ApiErrorBody,
  DeployAnswer,
  EventDetail,
  EventStatus,
  FlowDocument,
  FlowSummary,
  FlowVersionSummary,
  Lineage,
  Me,
  MetricsSummary,
  Page,
  ReconcileAction,
  ReconcileResult,
  ReplayPreview,
  ReplayRequest,
  ReplayResult,
  SecretSummary,
  StoredDeadLetter,
  StoredEvent,
  TestRunRequest,
  TestRunResult,
  UnreconciledList,
} from './types.ts'

/** An answer other than 2xx, with the API's error code, message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

type TokenSource = () => string | null
type UnauthorizedHandler = (error: ApiError) => void

let tokenSource: TokenSource = () => null
let onUnauthorized: UnauthorizedHandler = () => {}

/** The session tells the client which token to send and what to do when it is refused. */
export function configureApiClient(source: TokenSource, unauthorized: UnauthorizedHandler): void {
  tokenSource = source
  onUnauthorized = unauthorized
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const token = tokenSource()
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    })
  } catch (cause) {
    if ((cause as Error).name === 'AbortError') throw cause
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
    const error = (parsed as Partial<ApiErrorBody> | undefined)?.error
    const failure = new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `${method} /api${path} answered ${response.status}`,
      error?.details,
    )
    if (response.status === 401) onUnauthorized(failure)
    throw failure
  }
  return parsed as T
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** Some routes may wrap a document in a version record; the editor wants the document. */
function documentOf(answer: FlowDocument | { document: FlowDocument }): FlowDocument {
  return 'document' in answer && typeof answer.document === 'object' ? answer.document : (answer as FlowDocument)
}

/** Lists may come bare or as `{items}`. */
function itemsOf<T>(answer: T[] | { items: T[] }): T[] {
  return Array.isArray(answer) ? answer : answer.items
}

const enc = encodeURIComponent

export const api = {
  me: (signal?: AbortSignal) => request<Me>('GET', '/me', undefined, signal),

  listFlows: async (signal?: AbortSignal) =>
    itemsOf(await request<FlowSummary[] | { items: FlowSummary[] }>('GET', '/flows', undefined, signal)),
  getFlow: async (id: string, signal?: AbortSignal) =>
    documentOf(await request<FlowDocument | { document: FlowDocument }>('GET', `/flows/${enc(id)}`, undefined, signal)),
  listVersions: async (id: string, signal?: AbortSignal) =>
    itemsOf(
      await request<FlowVersionSummary[] | { items: FlowVersionSummary[] }>(
        'GET',
        `/flows/${enc(id)}/versions`,
        undefined,
        signal,
      ),
    ),
  getVersion: async (id: string, version: number, signal?: AbortSignal) =>
    documentOf(
      await request<FlowDocument | { document: FlowDocument }>(
        'GET',
        `/flows/${enc(id)}/versions/${version}`,
        undefined,
        signal,
      ),
    ),
  saveFlow: (doc: FlowDocument) => request<unknown>('PUT', `/flows/${enc(doc.id)}`, doc),
  /** With `canaryPercent`, `version` takes that share of new events beside the deployed version. */
  deployFlow: (id: string, version: number, canaryPercent?: number) =>
    request<DeployAnswer>('POST', `/flows/${enc(id)}/deploy`, {
      version,
      ...(canaryPercent === undefined ? {} : { canaryPercent }),
    }),
  /** The newest `events` stored events of the flow through `version` and the deployed version, without effects. */
  previewImpact: (id: string, version: number, events: number) =>
    request<ImpactPreview>('POST', `/flows/${enc(id)}/impact`, { version, events }),
  promoteCanary: (id: string, reason?: string) =>
    request<DeployAnswer>('POST', `/flows/${enc(id)}/canary/promote`, reason ? { reason } : {}),
  rollbackCanary: (id: string, reason?: string) =>
    request<DeployAnswer>('POST', `/flows/${enc(id)}/canary/rollback`, reason ? { reason } : {}),
  testFlow: (id: string, body: TestRunRequest) => request<TestRunResult>('POST', `/flows/${enc(id)}/test`, body),

  listEvents: (filter: { flow?: string; status?: EventStatus | ''; limit?: number; cursor?: string | null }) =>
    request<Page<StoredEvent>>('GET', `/events${query(filter)}`),
  getEvent: (id: string, signal?: AbortSignal) => request<EventDetail>('GET', `/events/${enc(id)}`, undefined, signal),
  getEventLineage: (id: string) => request<Record<string, Lineage>>('GET', `/events/${enc(id)}/lineage`),
  replayEvent: (id: string, body: ReplayRequest) =>
    request<ReplayPreview | ReplayResult>('POST', `/events/${enc(id)}/replay`, body),

  listDeadLetters: (filter: { flow?: string; limit?: number; cursor?: string | null }) =>
    request<Page<StoredDeadLetter>>('GET', `/dead-letters${query(filter)}`),
  replayDeadLetters: (body: { ids?: string[]; flow?: string; reason?: string; preview?: boolean; version?: number }) =>
    request<unknown>('POST', '/dead-letters/replay', body),

  listUnreconciled: (filter: { flow?: string; limit?: number }, signal?: AbortSignal) =>
    request<UnreconciledList>('GET', `/reconcile${query(filter)}`, undefined, signal),
  reconcileEvent: (id: string, action: ReconcileAction, reason: string) =>
    request<ReconcileResult>('POST', `/reconcile/${enc(id)}`, { action, reason }),

  metricsSummary: (flow?: string, signal?: AbortSignal) =>
    request<MetricsSummary>('GET', `/metrics/summary${query({ flow })}`, undefined, signal),

  listSecrets: async (signal?: AbortSignal) =>
    itemsOf(await request<SecretSummary[] | { items: SecretSummary[] }>('GET', '/secrets', undefined, signal)),
}

/** The live stream's address: EventSource cannot send headers, so the token rides in the query. */
export function streamUrl(): string {
  return `/api/stream${query({ access_token: tokenSource() })}`
}
