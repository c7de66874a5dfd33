/**
 * @module The events screen's Unreconciled section: events accepted longer ago than the runtime's threshold
 * with no terminal state, why each is stuck, and (operators) Resume or Dead-letter with a reason.
 */
import { type ReactNode, useEffect, useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client.ts'
import type { ReconcileAction, UnreconciledItem } from '../api/types.ts'
import { StatusPill } from '../shell/format.tsx'
import { ErrorState } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import { useCan } from '../state/session.ts'
import './unreconciled.css'

const REFRESH_MS = 15_000
const SHOWN = 100

function age(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  if (minutes >= 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
  return minutes >= 1 ? `${minutes} min` : `${Math.floor(ms / 1_000)} s`
}

/** Nothing at all when no event is unreconciled: the section is there only when there is something to do. */
export function UnreconciledSection({ flow }: { flow: string }) {
  // Resuming and dead-lettering acknowledged events is the operators' part, as replay is.
  const canAct = useCan('replay')
  const list = useResource((signal) => api.listUnreconciled({ flow: flow || undefined, limit: SHOWN }, signal), [flow])
  const { reload } = list
  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS)
    return () => window.clearInterval(timer)
  }, [reload])
  const [acting, setActing] = useState<{ id: string; action: ReconcileAction } | null>(null)
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)

  if (list.error) return <ErrorState error={list.error} retry={reload} />
  const items = list.data?.items ?? []
  if (items.length === 0) return null

  async function act() {
    if (!acting || !reason.trim()) return
    setBusy(true)
    try {
      const result = await api.reconcileEvent(acting.id, acting.action, reason.trim())
      toast(
        'ok',
        result.action === 'resume'
          ? `Resumed ${result.eventId}: ${result.outcome === 'due' ? 'its work runs now' : 'its work phase runs again'}`
          : `Moved ${result.eventId} to the dead letters`,
      )
      setActing(null)
      setReason('')
      reload()
    } catch (e) {
      toast('error', (e as Error).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card unreconciled" data-testid="unreconciled" aria-labelledby="unreconciled-title">
      <h2 id="unreconciled-title">
        Unreconciled <span className="count count-error">{items.length}</span>
      </h2>
      <p className="muted small">
        Accepted more than {age(list.data?.olderThanMs ?? 0)} ago and not completed or dead yet. Resume runs their work
        now (lost work starts its work phase again, with the same Idempotency-Keys); Dead-letter gives them up, to be
        replayed later.
      </p>
      <table className="table compact">
        <thead>
          <tr>
            <th>Event</th>
            <th>Flow</th>
            <th>Status</th>
            <th>Age</th>
            <th>Why</th>
            {canAct && <th />}
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <UnreconciledRow
              key={item.id}
              item={item}
              canAct={canAct}
              acting={acting?.id === item.id ? acting.action : null}
              onAct={(action) => {
                setActing({ id: item.id, action })
                setReason('')
              }}
            >
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault()
                  void act()
                }}
              >
                <input
                  type="text"
                  name="reconcile-reason"
                  required
                  placeholder="why (required, audited)"
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                />
                <button type="submit" className="accent" disabled={busy || !reason.trim()}>
                  {acting?.action === 'resume' ? 'Resume' : 'Dead-letter'} {item.id}
                </button>
                <button type="button" className="ghost" onClick={() => setActing(null)}>
                  Cancel
                </button>
              </form>
            </UnreconciledRow>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function UnreconciledRow(props: {
  item: UnreconciledItem
  canAct: boolean
  acting: ReconcileAction | null
  onAct(action: ReconcileAction): void
  /** The reason form, shown under the row while an action is chosen. */
  children: ReactNode
}) {
  const { item } = props
  return (
    <>
      <tr data-unreconciled={item.id}>
        <td>
          <Link to={`/events/${item.id}`}>
            <code>{item.id}</code>
          </Link>
          {item.test && <span className="pill pill-muted">test</span>}
        </td>
        <td>
          {item.flowId} v{item.flowVersion}
        </td>
        <td>
          <StatusPill status={item.status} /> <span className="pill pill-pending">{item.state}</span>
        </td>
        <td>{age(item.ageMs)}</td>
        <td className="small">{item.why}</td>
        {props.canAct && (
          <td className="nowrap">
            <button type="button" onClick={() => props.onAct('resume')}>
              Resume
            </button>{' '}
            <button type="button" className="ghost" onClick={() => props.onAct('dead-letter')}>
              Dead-letter
            </button>
          </td>
        )}
      </tr>
      {props.acting && (
        <tr>
          <td colSpan={6}>{props.children}</td>
        </tr>
      )}
    </>
  )
}
