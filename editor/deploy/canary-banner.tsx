/** @module The canvas' canary banner: which version takes what share of new events, with Promote and Roll back. */
import { useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client.ts'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import './canary.css'

export function CanaryBanner(props: {
  flowId: string
  /** Changes when a deploy may have started or ended a canary: the banner reads the flow again. */
  refreshKey: number
  /** Operators promote and roll back; other roles only see the banner. */
  canAct: boolean
  /** The candidate became the deployed version. */
  onPromoted(version: number): void
}) {
  const flows = useResource((signal) => api.listFlows(signal), [props.refreshKey])
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const flow = flows.data?.find((f) => f.id === props.flowId)
  const canary = flow?.canary ?? null
  if (!canary || !flow) return null

  async function end(action: 'promote' | 'rollback') {
    if (!canary || !flow) return
    setBusy(true)
    try {
      const answer =
        action === 'promote'
          ? await api.promoteCanary(props.flowId, reason.trim() || undefined)
          : await api.rollbackCanary(props.flowId, reason.trim() || undefined)
      // The answer says what is deployed now: no second read needed.
      flows.set(
        (flows.data ?? []).map((f) =>
          f.id === props.flowId ? { ...f, deployedVersion: answer.version, canary: null } : f,
        ),
      )
      setReason('')
      if (action === 'promote') props.onPromoted(answer.version)
      toast('ok', `Version ${answer.version} now takes every new webhook`)
    } catch (e) {
      toast('error', `Canary not ${action === 'promote' ? 'promoted' : 'rolled back'}: ${(e as Error).message}`)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="canary-banner" role="status" data-testid="canary-banner">
      <span className="pill pill-pending">canary</span>
      <span>
        v{canary.version} takes {canary.percent} % of new events; v{flow.deployedVersion} the rest.
      </span>
      <Link to={`/monitor?flow=${encodeURIComponent(props.flowId)}`}>Figures by version</Link>
      {props.canAct && (
        <div className="canary-actions">
          <input
            type="text"
            name="canary-reason"
            placeholder="why (optional, audited)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          <button type="button" className="accent" disabled={busy} onClick={() => void end('promote')}>
            Promote v{canary.version}
          </button>
          <button type="button" disabled={busy} onClick={() => void end('rollback')}>
            Roll back to v{flow.deployedVersion}
          </button>
        </div>
      )}
    </div>
  )
}
