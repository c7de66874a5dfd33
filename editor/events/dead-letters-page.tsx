/** @module /dead-letters — errors no edge took, waiting for a replay (operators replay them with a reason). */
import { useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client.ts'
import { FlowFilter, useAddressFilter } from '../shell/flow-filter.tsx'
import { formatTime, pageTitle } from '../shell/format.tsx'
import { EmptyState, ErrorState, Loading } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import { useCan } from '../state/session.ts'

const PAGE_SIZE = 100

interface BulkAnswer {
  replayed?: Array<{ eventId: string; status: string; version: number }>
  previews?: Array<{ eventId: string; outcome: string; changes?: { path?: { changed?: boolean } } }>
  failed?: Array<{ eventId: string | null; code: string; error: string }>
  truncated?: boolean
}

export function DeadLettersPage() {
  const [flow, setFlow] = useAddressFilter('flow')
  const canReplay = useCan('replay')
  const canPreview = useCan('previewReplay')
  const letters = useResource(() => api.listDeadLetters({ flow, limit: PAGE_SIZE }), [flow])
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set())
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const [answer, setAnswer] = useState<BulkAnswer | null>(null)

  const items = letters.data?.items ?? []
  const chosen = items.filter((l) => selected.has(l.id)).map((l) => l.id)

  async function replay(preview: boolean) {
    setBusy(true)
    try {
      const body = chosen.length > 0 ? { ids: chosen } : { flow }
      const result = (await api.replayDeadLetters({
        ...body,
        ...(preview ? { preview: true } : { reason }),
      })) as BulkAnswer
      setAnswer(result)
      if (!preview) {
        toast('ok', `Replayed ${result.replayed?.length ?? 0}; ${result.failed?.length ?? 0} failed`)
        setSelected(new Set())
        setReason('')
        letters.reload()
      }
    } catch (e) {
      toast('error', (e as Error).message)
    } finally {
      setBusy(false)
    }
  }

  function toggle(id: string) {
    const next = new Set(selected)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setSelected(next)
  }

  const scope = chosen.length > 0 ? `${chosen.length} selected` : flow ? `every open one of ${flow}` : undefined
  return (
    <div className="page">
      <title>{pageTitle('Dead letters')}</title>
      <div className="page-head">
        <h1>Dead letters</h1>
        <FlowFilter
          value={flow}
          onChange={(next) => {
            setFlow(next)
            setSelected(new Set())
          }}
        />
      </div>
      {letters.error && <ErrorState error={letters.error} retry={letters.reload} />}
      {letters.loading && !letters.data && <Loading what="dead letters" />}
      {letters.data && items.length === 0 && (
        <EmptyState title="No dead letters">
          Nothing is waiting: every acknowledged event completed, or its errors went along an edge.
        </EmptyState>
      )}
      {items.length > 0 && (
        <>
          {(canPreview || canReplay) && (
            <div className="card replay-bar">
              <span className="muted">
                {scope ? `Replay ${scope}` : 'Select dead letters, or choose a flow, to replay them.'}
              </span>
              {canPreview && (
                <button type="button" disabled={!scope || busy} onClick={() => void replay(true)}>
                  Preview
                </button>
              )}
              {canReplay && (
                <>
                  <input
                    name="reason"
                    className="reason-input"
                    placeholder="Reason, for the audit log"
                    value={reason}
                    onChange={(e) => setReason(e.target.value)}
                  />
                  <button
                    type="button"
                    className="accent"
                    disabled={!scope || busy || reason.trim() === ''}
                    onClick={() => void replay(false)}
                  >
                    Replay
                  </button>
                </>
              )}
            </div>
          )}
          {answer && <BulkAnswerView answer={answer} />}
          <table className="table" data-testid="dead-letters">
            <thead>
              <tr>
                <th aria-label="Select" />
                <th>When</th>
                <th>Flow</th>
                <th>Node</th>
                <th>Error</th>
                <th>Event</th>
              </tr>
            </thead>
            <tbody>
              {items.map((letter) => (
                <tr key={letter.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`select ${letter.id}`}
                      checked={selected.has(letter.id)}
                      onChange={() => toggle(letter.id)}
                    />
                  </td>
                  <td>{formatTime(letter.createdAt)}</td>
                  <td>
                    {letter.flowId} v{letter.flowVersion}
                  </td>
                  <td>
                    <code>{letter.node}</code>
                  </td>
                  <td>
                    <span className="pill pill-error">{letter.error.category}</span>{' '}
                    <span className="small">{letter.error.message}</span>
                  </td>
                  <td>
                    <Link to={`/events/${letter.eventId}`}>
                      <code>{letter.eventId}</code>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  )
}

function BulkAnswerView({ answer }: { answer: BulkAnswer }) {
  return (
    <div className="card" data-testid="bulk-answer">
      {answer.previews && (
        <p>
          Preview: {answer.previews.length} event(s) would run;{' '}
          {answer.previews.filter((p) => p.outcome === 'completed').length} would complete.
        </p>
      )}
      {answer.replayed && <p>Replayed {answer.replayed.length} event(s).</p>}
      {answer.failed && answer.failed.length > 0 && (
        <ul className="issue-list">
          {answer.failed.map((f) => (
            <li key={`${f.eventId}:${f.code}`} className="issue">
              <code>{f.eventId ?? '—'}</code> {f.code}: {f.error}
            </li>
          ))}
        </ul>
      )}
      {answer.truncated && <p className="muted">More remain: replay again for the rest.</p>}
    </div>
  )
}
