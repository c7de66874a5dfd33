/** @module /events — every delivery, newest first, live: filters by flow and status, rejected ones explained. */
import { useCallback, useRef, useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client.ts'
import {
  EVENT_STATUSES,
  type EventStatus,
  type RejectionDiagnosis,
  type StoredEvent,
  type StreamNews,
} from '../api/types.ts'
import { FlowFilter, useAddressFilter } from '../shell/flow-filter.tsx'
import { formatBytes, formatTime, pageTitle, StatusPill } from '../shell/format.tsx'
import { EmptyState, ErrorState, Loading } from '../shell/states.tsx'
import { useResource } from '../shell/use-resource.ts'
import { UnreconciledSection } from './unreconciled-section.tsx'
import { useEventStream } from './use-event-stream.ts'

const PAGE_SIZE = 50
/** Step news arrives in bursts; the event is read again once this long after the first of a burst. */
const REFRESH_DELAY_MS = 150
/** A row as the list shows it: the stored event (its raw body stays on the event's own page). */
type EventRow = Omit<StoredEvent, 'rawBody'> & { fresh?: boolean }

export function EventsPage() {
  const [flow, setFlow] = useAddressFilter('flow')
  const [statusFilter, setStatus] = useAddressFilter('status')
  const status = statusFilter as EventStatus | ''
  const [rows, setRows] = useState<EventRow[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [more, setMore] = useState(false)
  const first = useResource(async () => {
    const page = await api.listEvents({ flow, status, limit: PAGE_SIZE })
    setRows(page.items)
    setCursor(page.nextCursor)
    return page
  }, [flow, status])

  // The runtime sends news of an event once it is stored, so the whole row can be read at once.
  const fetchRow = useCallback((eventId: string) => {
    api.getEvent(eventId).then(
      (event) => setRows((current) => current.map((r) => (r.id === event.id ? { ...event, fresh: true } : r))),
      () => undefined,
    )
  }, [])

  const pending = useRef(new Map<string, number>())
  const refresh = useCallback(
    (eventId: string) => {
      if (pending.current.has(eventId)) return
      pending.current.set(
        eventId,
        window.setTimeout(() => {
          pending.current.delete(eventId)
          void api.getEvent(eventId).then(
            (event) =>
              setRows((current) =>
                current
                  .map((r) => (r.id === event.id ? { ...r, status: event.status, fresh: true } : r))
                  .filter((r) => !status || r.status === status),
              ),
            () => undefined,
          )
        }, REFRESH_DELAY_MS),
      )
    },
    [status],
  )

  const onNews = useCallback(
    (news: StreamNews) => {
      if (news.type === 'event') {
        if (status && news.status !== status) {
          setRows((current) => current.filter((r) => r.id !== news.eventId))
          return
        }
        setRows((current) => {
          const known = current.find((r) => r.id === news.eventId)
          if (known) return current.map((r) => (r.id === news.eventId ? { ...r, status: news.status, fresh: true } : r))
          const row: EventRow = {
            id: news.eventId,
            requestId: '',
            flowId: news.flowId,
            flowVersion: news.flowVersion,
            path: '',
            status: news.status,
            receivedAt: news.at,
            updatedAt: news.at,
            headers: {},
            sizeBytes: 0,
            duplicateOf: null,
            test: false,
            rejection: null,
            fresh: true,
          }
          return [row, ...current]
        })
        // The news carries no path or rejection: fetch the whole row for it.
        fetchRow(news.eventId)
      } else if (news.status) {
        const next = news.status
        setRows((current) =>
          current
            .map((r) => (r.id === news.eventId ? { ...r, status: next } : r))
            .filter((r) => !status || r.status === status),
        )
      } else {
        // Step news without the event's status: read the event again (once per burst) to learn it.
        refresh(news.eventId)
      }
    },
    [status, refresh, fetchRow],
  )
  const live = useEventStream(flow || undefined, onNews)

  async function loadMore() {
    if (!cursor) return
    setMore(true)
    try {
      const page = await api.listEvents({ flow, status, limit: PAGE_SIZE, cursor })
      setRows((current) => [...current, ...page.items.filter((e) => !current.some((r) => r.id === e.id))])
      setCursor(page.nextCursor)
    } finally {
      setMore(false)
    }
  }

  return (
    <div className="page">
      <title>{pageTitle('Events')}</title>
      <div className="page-head">
        <h1>
          Events{' '}
          <span className={`live live-${live}`} data-testid="live">
            {live === 'live' ? 'live' : live}
          </span>
        </h1>
        <div className="filters">
          <FlowFilter value={flow} onChange={setFlow} />
          <label className="inline-field">
            <span>Status</span>
            <select name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">any</option>
              {EVENT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <UnreconciledSection flow={flow} />
      {first.error && <ErrorState error={first.error} retry={first.reload} />}
      {first.loading && rows.length === 0 && !first.error && <Loading what="events" />}
      {!first.loading && !first.error && rows.length === 0 && (
        <EmptyState title={flow || status ? 'No events match' : 'No events yet'}>
          New deliveries appear here as they arrive. Send one with <code>npx mapper send</code>, or POST to a flow's{' '}
          <code>/hooks/…</code> path.
        </EmptyState>
      )}
      {rows.length > 0 && (
        <table className="table events-table" data-testid="events-table">
          <thead>
            <tr>
              <th>Received</th>
              <th>Status</th>
              <th>Flow</th>
              <th>Path</th>
              <th className="num">Size</th>
              <th>Event</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((event) => (
              <EventRowView key={event.id} event={event} />
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <div className="button-row center">
          <button type="button" onClick={() => void loadMore()} disabled={more}>
            {more ? 'Loading…' : 'Older events'}
          </button>
        </div>
      )}
    </div>
  )
}

function EventRowView({ event }: { event: EventRow }) {
  const diagnosis = event.rejection?.diagnosis as RejectionDiagnosis | undefined
  return (
    <>
      <tr className={event.fresh ? 'row-new' : undefined} data-event={event.id}>
        <td>{formatTime(event.receivedAt)}</td>
        <td>
          <StatusPill status={event.status} />
          {event.test && <span className="pill pill-muted">test</span>}
        </td>
        <td>{event.flowId ? `${event.flowId} v${event.flowVersion ?? '?'}` : <span className="muted">—</span>}</td>
        <td>
          <code>{event.path || '…'}</code>
        </td>
        <td className="num">{formatBytes(event.sizeBytes)}</td>
        <td>
          <Link to={`/events/${event.id}`}>
            <code>{event.id}</code>
          </Link>
        </td>
      </tr>
      {event.rejection && (
        <tr className="rejection-row">
          <td />
          <td colSpan={5}>
            <span className="pill pill-error">
              {event.rejection.status} {event.rejection.code}
            </span>{' '}
            {event.rejection.message}
            {diagnosis?.findings && diagnosis.findings.length > 0 && (
              <ul className="findings" aria-label="What the signature explainer found">
                {diagnosis.findings.map((f) => (
                  <li key={`${f.cause}:${f.detail}`}>
                    <code>{f.cause}</code> {f.detail}
                  </li>
                ))}
              </ul>
            )}
          </td>
        </tr>
      )}
    </>
  )
}
