/** @module /events/:id — one event: raw payload, steps, lineage (pick an output field, see its inputs), replay. */
import { useMemo, useState } from 'react'
import { Link, useParams } from 'react-router'
import type { Lineage } from '../../runtime/model/node-kind.ts'
import { type ApiError, api } from '../api/client.ts'
import type { EventDetail, RejectionDiagnosis, ReplayPreview, RunPath, Step } from '../api/types.ts'
import { formatMs } from '../canvas/flow-node.tsx'
import { formatBytes, formatTime, pageTitle, StatusPill } from '../shell/format.tsx'
import { JsonBlock, JsonTree, samePathKey } from '../shell/json-tree.tsx'
import { ErrorState, Loading } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import { useCan } from '../state/session.ts'

export function EventDetailPage() {
  const { id = '' } = useParams()
  const event = useResource((signal) => api.getEvent(id, signal), [id])
  if (event.error) {
    return (
      <div className="page">
        <ErrorState error={event.error} retry={event.reload} />
        <Link to="/events">All events</Link>
      </div>
    )
  }
  if (!event.data) return <Loading what={`event ${id}`} />
  return <EventView event={event.data} reload={event.reload} />
}

function parsePayload(raw: string | null): { value?: unknown; problem?: string } {
  if (raw === null) return { problem: 'The raw body is gone: retention removed it, or the request was refused.' }
  try {
    return { value: JSON.parse(raw) }
  } catch {
    return { problem: 'The body is not JSON.', value: raw }
  }
}

function EventView({ event, reload }: { event: EventDetail; reload(): void }) {
  const payload = useMemo(() => parsePayload(event.rawBody), [event.rawBody])
  const transforms = Object.entries(event.lineage ?? {})
  const [picked, setPicked] = useState<{ node: string; field: string } | null>(null)
  const highlight = useMemo(() => {
    if (!picked) return undefined
    const lineage = event.lineage[picked.node]
    return new Set(lineage ? inputsOf(lineage, picked.field) : [])
  }, [picked, event.lineage])
  const pickedInputs = highlight ? [...highlight] : []

  return (
    <div className="page page-wide event-page">
      <title>{pageTitle(`Event ${event.id}`)}</title>
      <div className="page-head">
        <h1>
          <Link to="/events" className="muted">
            Events
          </Link>
          <span className="muted">/</span> <code className="event-id">{event.id}</code>
          <StatusPill status={event.status} />
          {event.test && <span className="pill pill-muted">test</span>}
        </h1>
      </div>
      <dl className="facts card">
        <div>
          <dt>Flow</dt>
          <dd>
            {event.flowId ? (
              <Link to={`/flows/${event.flowId}/versions/${event.flowVersion}`}>
                {event.flowId} v{event.flowVersion}
              </Link>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd>{formatTime(event.receivedAt)}</dd>
        </div>
        <div>
          <dt>Path</dt>
          <dd>
            <code>{event.path}</code>
          </dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(event.sizeBytes)}</dd>
        </div>
        <div>
          <dt>Request id</dt>
          <dd>
            <code>{event.requestId}</code>
          </dd>
        </div>
        {event.duplicateOf && (
          <div>
            <dt>Duplicate of</dt>
            <dd>
              <Link to={`/events/${event.duplicateOf}`}>
                <code>{event.duplicateOf}</code>
              </Link>
            </dd>
          </div>
        )}
        {event.pendingWork > 0 && (
          <div>
            <dt>Pending</dt>
            <dd>{event.pendingWork} work item(s)</dd>
          </div>
        )}
      </dl>

      {event.rejection && <RejectionPanel rejection={event.rejection} />}

      <div className="event-columns">
        <div>
          <section className="card">
            <h2>Raw payload</h2>
            {payload.problem && <p className="muted">{payload.problem}</p>}
            {payload.value !== undefined && (
              <JsonTree value={payload.value} highlight={highlight} label="Raw payload" />
            )}
            {picked && (
              <p className="small lineage-note" data-testid="lineage-note">
                <code>{picked.field}</code> of <code>{picked.node}</code> comes from{' '}
                {pickedInputs.length === 0 ? (
                  <em>no input field (a constant or a function like $now())</em>
                ) : (
                  pickedInputs.map((p) => <code key={p}>{p}</code>)
                )}
              </p>
            )}
          </section>
          <section className="card">
            <h2>Headers</h2>
            <p className="muted small">As stored: credentials and signatures are masked.</p>
            <JsonBlock value={event.headers} />
          </section>
        </div>
        <div>
          {!event.rejection && <ReplayPanel event={event} reload={reload} />}
          {transforms.length > 0 && (
            <section className="card" aria-label="Lineage">
              <h2>Lineage</h2>
              <p className="muted small">
                Pick an output field: the input fields it came from light up in the payload.
              </p>
              {transforms.map(([node, lineage]) => (
                <LineageList
                  key={node}
                  node={node}
                  lineage={lineage}
                  output={lastStep(event.steps, node)?.output}
                  picked={picked?.node === node ? picked.field : undefined}
                  onPick={(field) => setPicked({ node, field })}
                />
              ))}
            </section>
          )}
          <section className="card">
            <h2>Steps</h2>
            <StepTable steps={event.steps} runs={event.runs} />
          </section>
          {event.deadLetters.length > 0 && (
            <section className="card">
              <h2>Dead letters</h2>
              <ul className="issue-list">
                {event.deadLetters.map((letter) => (
                  <li key={letter.id} className="issue">
                    <code>{letter.node}</code> {letter.error.category}: {letter.error.message}
                    {letter.replayedAt && (
                      <span className="pill pill-muted">replayed {formatTime(letter.replayedAt)}</span>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      </div>
    </div>
  )
}

function lastStep(steps: readonly Step[], node: string): Step | undefined {
  return [...steps].reverse().find((s) => s.node === node)
}

/** The input paths an output field (or a field below it) came from. */
function inputsOf(lineage: Lineage, field: string): string[] {
  const key = samePathKey(field)
  const exact = Object.entries(lineage).filter(([out]) => samePathKey(out) === key)
  const found =
    exact.length > 0 ? exact : Object.entries(lineage).filter(([out]) => samePathKey(out).startsWith(`${key}\u0000`))
  return [...new Set(found.flatMap(([, inputs]) => inputs))]
}

function LineageList(props: {
  node: string
  lineage: Lineage
  output: unknown
  picked: string | undefined
  onPick(field: string): void
}) {
  const { node, lineage, output, picked, onPick } = props
  return (
    <div className="lineage-node">
      <h3>
        <code>{node}</code>
      </h3>
      <ul className="lineage-list">
        {Object.entries(lineage).map(([out, inputs]) => (
          <li key={out}>
            <button
              type="button"
              className={`lineage-field${picked === out ? ' picked' : ''}`}
              data-field={out}
              onClick={() => onPick(out)}
            >
              <code>{out}</code>
              <span className="muted">←</span>
              <span className="lineage-inputs">
                {inputs.length === 0 ? (
                  <em className="muted">constant</em>
                ) : (
                  inputs.map((i) => <code key={i}>{i}</code>)
                )}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {output !== undefined && (
        <details>
          <summary className="small">Output of {node} (click a field)</summary>
          <JsonTree value={output} onPick={onPick} picked={picked} label={`Output of ${node}`} />
        </details>
      )}
    </div>
  )
}

function StepTable({ steps, runs }: { steps: readonly Step[]; runs: EventDetail['runs'] }) {
  if (steps.length === 0) return <p className="muted">No node has run.</p>
  return (
    <>
      {runs && runs.length > 1 && (
        <p className="small muted">
          {runs.length} runs: the receipt and {runs.length - 1} replay(s).
        </p>
      )}
      <table className="table compact">
        <thead>
          <tr>
            <th>Node</th>
            <th>Phase</th>
            <th>Attempt</th>
            <th>Outcome</th>
            <th className="num">Time</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: steps of one event in order; a node may repeat
            <tr key={i} className={step.error ? 'step-failed-row' : undefined}>
              <td>
                <code>{step.node}</code> <span className="muted small">{step.kind}</span>
              </td>
              <td>{step.phase}</td>
              <td className="num">{step.attempt}</td>
              <td>
                {step.skipped ? (
                  <span className="pill pill-muted">skipped</span>
                ) : step.error ? (
                  <span title={step.error.message}>
                    <span className="pill pill-error">{step.error.category}</span>{' '}
                    <span className="small">{step.error.message}</span>
                  </span>
                ) : (
                  <span className="pill pill-ok">→ {step.port ?? 'end'}</span>
                )}
              </td>
              <td className="num">{formatMs(step.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function RejectionPanel({ rejection }: { rejection: NonNullable<EventDetail['rejection']> }) {
  const diagnosis = rejection.diagnosis as RejectionDiagnosis | undefined
  const details = Array.isArray(rejection.details) ? (rejection.details as Array<Record<string, unknown>>) : []
  return (
    <section className="card rejection" aria-label="Why it was refused">
      <h2>
        Refused: {rejection.status} <code>{rejection.code}</code>
      </h2>
      <p>{rejection.message}</p>
      {diagnosis && (
        <div className="diagnosis" data-testid="diagnosis">
          <h3>What the signature explainer found</h3>
          {diagnosis.reason && <p>{diagnosis.reason}</p>}
          {diagnosis.findings && diagnosis.findings.length > 0 ? (
            <ul className="findings">
              {diagnosis.findings.map((f) => (
                <li key={`${f.cause}:${f.detail}`}>
                  <code>{f.cause}</code> {f.detail}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No likely cause found: the secret may simply be wrong.</p>
          )}
          {diagnosis.clockOffsetSec !== undefined && (
            <p className="small muted">The sender's clock is {diagnosis.clockOffsetSec} s off from ours.</p>
          )}
          {diagnosis.secretsTried && diagnosis.secretsTried.length > 0 && (
            <p className="small muted">Secrets tried (fingerprints): {diagnosis.secretsTried.join(', ')}</p>
          )}
        </div>
      )}
      {details.length > 0 && (
        <ul className="issue-list">
          {details.map((d, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: schema errors have no id
            <li key={i} className="issue">
              <code>{String(d.path ?? '')}</code> {String(d.rule ?? '')} {String(d.message ?? '')}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function ReplayPanel({ event, reload }: { event: EventDetail; reload(): void }) {
  const canPreview = useCan('previewReplay')
  const canReplay = useCan('replay')
  const versions = useResource(
    (signal) => (event.flowId ? api.listVersions(event.flowId, signal) : Promise.resolve([])),
    [event.flowId],
  )
  const [version, setVersion] = useState<number | undefined>(event.flowVersion ?? undefined)
  const [preview, setPreview] = useState<ReplayPreview | null>(null)
  const [previewedVersion, setPreviewedVersion] = useState<number | undefined>()
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState<'preview' | 'replay' | null>(null)
  const [failure, setFailure] = useState<ApiError | null>(null)
  if (!canPreview) return null

  async function runPreview() {
    setBusy('preview')
    setFailure(null)
    try {
      const answer = await api.replayEvent(event.id, { preview: true, ...(version ? { version } : {}) })
      setPreview(answer as ReplayPreview)
      setPreviewedVersion(version)
    } catch (e) {
      setFailure(e as ApiError)
    } finally {
      setBusy(null)
    }
  }

  async function replay() {
    setBusy('replay')
    setFailure(null)
    try {
      const answer = await api.replayEvent(event.id, { reason, ...(version ? { version } : {}) })
      toast(
        'ok',
        `Replayed on v${'version' in answer ? answer.version : version}: ${'status' in answer ? answer.status : ''}`,
      )
      setPreview(null)
      setReason('')
      reload()
    } catch (e) {
      setFailure(e as ApiError)
    } finally {
      setBusy(null)
    }
  }

  const previewFits = preview !== null && previewedVersion === version
  return (
    <section className="card replay" aria-label="Replay">
      <h2>Replay</h2>
      <div className="button-row">
        <label className="inline-field">
          <span>on version</span>
          <select
            name="replay-version"
            value={version ?? ''}
            onChange={(e) => setVersion(e.target.value ? Number(e.target.value) : undefined)}
          >
            {versions.data?.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
                {v.version === event.flowVersion ? ' (first ran it)' : ''}
                {v.deployed ? ' · deployed' : ''}
              </option>
            ))}
            {!versions.data && event.flowVersion && <option value={event.flowVersion}>v{event.flowVersion}</option>}
          </select>
        </label>
        <button type="button" onClick={() => void runPreview()} disabled={busy !== null}>
          {busy === 'preview' ? 'Previewing…' : 'Preview'}
        </button>
      </div>
      <p className="muted small">
        A preview runs the event again without side effects (no HTTP call) and shows what would change.
      </p>
      {failure && (
        <p className="form-error" role="alert">
          {failure.message}
        </p>
      )}
      {previewFits && preview && <PreviewView preview={preview} />}
      {canReplay && (
        <form
          className="replay-form"
          onSubmit={(e) => {
            e.preventDefault()
            void replay()
          }}
        >
          <label className="field">
            <span>Reason (goes to the audit log)</span>
            <input
              name="replay-reason"
              value={reason}
              placeholder="CRM was down 14:00–14:20"
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <button
            type="submit"
            className="accent"
            disabled={!previewFits || reason.trim() === '' || busy !== null}
            title={
              !previewFits ? 'Preview this version first' : reason.trim() === '' ? 'Give a reason' : 'Replay for real'
            }
          >
            {busy === 'replay' ? 'Replaying…' : `Replay for real on v${version ?? ''}`}
          </button>
        </form>
      )}
    </section>
  )
}

function pathText(path: RunPath): string {
  return path.map(([node, port]) => `${node}${port ? `.${port}` : ''}`).join(' → ')
}

function PreviewView({ preview }: { preview: ReplayPreview }) {
  const { changes } = preview
  return (
    <div className="preview" data-testid="replay-preview">
      <p>
        Would end{' '}
        <span className={`pill ${preview.outcome === 'completed' ? 'pill-ok' : 'pill-error'}`}>{preview.outcome}</span>{' '}
        {changes.path.changed ? <strong>on another path</strong> : <span className="muted">on the same path</span>}
      </p>
      {changes.path.changed && (
        <div className="small">
          <div>
            <span className="muted">before</span> {pathText(changes.path.before)}
          </div>
          <div>
            <span className="muted">after</span> {pathText(changes.path.after)}
          </div>
        </div>
      )}
      {changes.outputs.length > 0 ? (
        <ul className="diff-fields">
          {changes.outputs.map((o) => (
            <li key={o.node}>
              <code>{o.node}</code> output changes
              <details>
                <summary className="small">before / after</summary>
                <div className="two-up">
                  <JsonBlock value={o.before} />
                  <JsonBlock value={o.after} />
                </div>
              </details>
            </li>
          ))}
        </ul>
      ) : (
        <p className="small muted">
          No output changes{changes.unchanged.length ? ` (${changes.unchanged.length} nodes the same)` : ''}.
        </p>
      )}
      {(changes.added.length > 0 || changes.removed.length > 0) && (
        <p className="small">
          {changes.added.length > 0 && <>Newly reached: {changes.added.join(', ')}. </>}
          {changes.removed.length > 0 && <>No longer reached: {changes.removed.join(', ')}.</>}
        </p>
      )}
    </div>
  )
}
