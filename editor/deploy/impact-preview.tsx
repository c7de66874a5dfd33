/** @module The deploy dialog's impact preview: the newest N stored events through the candidate and the deployed version. */
import { useState } from 'react'
import { api } from '../api/client.ts'
import type { RunPath } from '../api/types.ts'
import { ErrorState } from '../shell/states.tsx'
import { DEFAULT_EVENTS, type FieldChange, type ImpactEvent, type ImpactPreview, MAX_EVENTS } from './impact-api.ts'
import './impact-preview.css'

function shown(value: unknown): string {
  if (value === undefined) return '(absent)'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

function PathLine({ path }: { path: RunPath }) {
  return (
    <span className="impact-path">
      {path.map(([node, port], i) => (
        <span key={node}>
          {i > 0 && ' → '}
          <code>{node}</code>
          <span className="muted">:{port ?? '—'}</span>
        </span>
      ))}
    </span>
  )
}

function FieldRow({ node, field }: { node: string; field: FieldChange }) {
  return (
    <tr data-testid="impact-field">
      <td>
        <code>{node}</code>
      </td>
      <td>
        <code>{field.path}</code>
      </td>
      <td className="impact-before">{shown(field.before)}</td>
      <td className="impact-after">{shown(field.after)}</td>
    </tr>
  )
}

function EventChanges({ event }: { event: ImpactEvent }) {
  const what =
    event.outcome.deployed !== event.outcome.candidate
      ? `${event.outcome.deployed} → ${event.outcome.candidate}`
      : event.path.changed
        ? 'path changed'
        : 'output changed'
  return (
    <li className="impact-event" data-testid="impact-event">
      <div className="impact-event-head">
        <code>{event.eventId}</code>
        <span className="muted">{new Date(event.receivedAt).toLocaleString()}</span>
        <span className={`pill ${event.changed ? 'pill-pending' : 'pill-muted'}`}>
          {event.error ? 'not compared' : event.changed ? what : 'unchanged'}
        </span>
      </div>
      {event.error && <div className="impact-error">{event.error}</div>}
      {event.path.changed && (
        <div className="impact-paths" data-testid="impact-path-change">
          <div>
            <span className="impact-label">deployed</span> <PathLine path={event.path.deployed} />
          </div>
          <div>
            <span className="impact-label">candidate</span> <PathLine path={event.path.candidate} />
          </div>
        </div>
      )}
      {event.nodes.length > 0 && (
        <table className="table compact impact-fields">
          <thead>
            <tr>
              <th>node</th>
              <th>field</th>
              <th>deployed</th>
              <th>candidate</th>
            </tr>
          </thead>
          <tbody>
            {event.nodes.flatMap(({ node, fields }) =>
              fields.map((field) => <FieldRow key={`${node}${field.path}`} node={node} field={field} />),
            )}
          </tbody>
        </table>
      )}
    </li>
  )
}

function Totals({ preview }: { preview: ImpactPreview }) {
  const t = preview.totals
  return (
    <div className="impact-totals" data-testid="impact-totals">
      <span>
        <strong>{t.compared}</strong> events compared
      </span>
      <span className="pill pill-pending">{t.changed} changed</span>
      <span className="pill pill-ok">{t.unchanged} unchanged</span>
      {t.errors > 0 && <span className="pill pill-error">{t.errors} not compared</span>}
      <span className="muted">
        path {t.pathChanged} · outcome {t.outcomeChanged} · output {t.outputChanged}
      </span>
    </div>
  )
}

/** Choose N, run, read: totals, the fields that change, then each changed event. */
export function ImpactPreviewPanel({ flowId, version }: { flowId: string; version: number }) {
  const [events, setEvents] = useState(DEFAULT_EVENTS)
  const [running, setRunning] = useState(false)
  const [preview, setPreview] = useState<ImpactPreview | null>(null)
  const [error, setError] = useState<Error | null>(null)

  async function run() {
    setRunning(true)
    setError(null)
    try {
      setPreview(await api.previewImpact(flowId, version, events))
    } catch (e) {
      setPreview(null)
      setError(e as Error)
    } finally {
      setRunning(false)
    }
  }

  const changed = preview?.events.filter((e) => e.changed || e.error) ?? []
  return (
    <section className="impact-preview" aria-labelledby="impact-title">
      <h3 id="impact-title">Impact preview</h3>
      <p className="muted">
        Runs the newest stored events through v{version} and through the deployed version, without side effects, and
        shows what would change.
      </p>
      <div className="impact-controls">
        <label>
          Events{' '}
          <input
            type="number"
            name="impact-events"
            min={1}
            max={MAX_EVENTS}
            value={events}
            onChange={(e) => setEvents(Math.min(MAX_EVENTS, Math.max(1, Number(e.target.value) || 1)))}
          />
        </label>
        <button type="button" onClick={() => void run()} disabled={running}>
          {running ? 'Running…' : preview ? 'Run again' : 'Run preview'}
        </button>
      </div>
      {error && <ErrorState error={error} retry={() => void run()} />}
      {preview && (
        <div className="impact-result" data-testid="impact-result">
          <Totals preview={preview} />
          {preview.totals.compared === 0 && <p className="muted">No stored events to run yet.</p>}
          {preview.fields.length > 0 && (
            <div className="impact-summary">
              <strong>Fields that change</strong>
              <ul>
                {preview.fields.map((f) => (
                  <li key={`${f.node}${f.path}`} data-testid="impact-changed-field">
                    <code>{f.node}</code> <code>{f.path}</code>{' '}
                    <span className="muted">
                      in {f.events} event{f.events === 1 ? '' : 's'}
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {changed.length > 0 && (
            <ol className="impact-events">
              {changed.map((event) => (
                <EventChanges key={event.eventId} event={event} />
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  )
}
