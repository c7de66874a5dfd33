/** @module /flows — every flow with its latest and deployed version; new flows and imports start here. */
import { useRef, useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { FLOW_ID_PATTERN, TRIGGER_PATH_PATTERN } from '../../runtime/model/flow-schema.ts'
import { api } from '../api/client.ts'
import type { FlowDocument } from '../api/types.ts'
import type { DraftState } from '../canvas/flow-editor-page.tsx'
import { EmptyState, ErrorState, Loading } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import { useCan } from '../state/session.ts'

export function FlowsPage() {
  const flows = useResource((signal) => api.listFlows(signal), [])
  const canSave = useCan('save')
  const navigate = useNavigate()
  const [creating, setCreating] = useState(false)
  const importInput = useRef<HTMLInputElement>(null)

  async function importFile(file: File) {
    try {
      const doc = JSON.parse(await file.text()) as FlowDocument
      if (!doc || typeof doc.id !== 'string' || !Array.isArray(doc.nodes)) {
        throw new Error('the file is not a flow document')
      }
      navigate(`/flows/${doc.id}`, { state: { draft: doc } satisfies DraftState })
    } catch (e) {
      toast('error', `Not imported: ${(e as Error).message}`)
    }
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1>Flows</h1>
        {canSave && (
          <div className="button-row">
            <button type="button" className="ghost" onClick={() => importInput.current?.click()}>
              Import file
            </button>
            <input
              ref={importInput}
              type="file"
              accept=".json,application/json"
              hidden
              onChange={(e) => {
                const file = e.target.files?.[0]
                if (file) void importFile(file)
                e.target.value = ''
              }}
            />
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              New flow
            </button>
          </div>
        )}
      </div>
      {creating && <NewFlowForm onCancel={() => setCreating(false)} taken={new Set(flows.data?.map((f) => f.id))} />}
      {flows.error && <ErrorState error={flows.error} retry={flows.reload} />}
      {!flows.error && flows.loading && !flows.data && <Loading what="flows" />}
      {flows.data?.length === 0 && (
        <EmptyState title="No flows yet">
          Create one here, or add a <code>&lt;id&gt;.flow.json</code> file to <code>flows/</code> and restart the
          runtime.
        </EmptyState>
      )}
      {flows.data && flows.data.length > 0 && (
        <table className="table" data-testid="flow-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th className="num">Latest</th>
              <th>Deployed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {flows.data.map((flow) => (
              <tr key={flow.id}>
                <td>
                  <Link to={`/flows/${flow.id}`} className="strong">
                    {flow.name}
                  </Link>
                </td>
                <td>
                  <code>{flow.id}</code>
                </td>
                <td className="num">v{flow.version}</td>
                <td>
                  {flow.deployedVersion === null ? (
                    <span className="pill pill-muted">not deployed</span>
                  ) : (
                    <span className={`pill ${flow.deployedVersion === flow.version ? 'pill-ok' : 'pill-pending'}`}>
                      v{flow.deployedVersion}
                      {flow.deployedVersion !== flow.version ? ' (older)' : ''}
                    </span>
                  )}
                </td>
                <td className="actions">
                  <Link to={`/flows/${flow.id}/versions/${flow.version}`}>Versions</Link>
                  <Link to={`/events?flow=${flow.id}`}>Events</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

function NewFlowForm({ onCancel, taken }: { onCancel(): void; taken: ReadonlySet<string> }) {
  const navigate = useNavigate()
  const [id, setId] = useState('')
  const [name, setName] = useState('')
  const [path, setPath] = useState('')
  const idOk = new RegExp(FLOW_ID_PATTERN).test(id)
  const pathOk = new RegExp(TRIGGER_PATH_PATTERN).test(path || id)
  const problem = !id
    ? undefined
    : !idOk
      ? 'An id is a slug: lower-case letters, digits and -'
      : taken.has(id)
        ? `A flow "${id}" exists already`
        : !pathOk
          ? 'The path is lower-case segments separated by /'
          : undefined
  return (
    <form
      className="card new-flow"
      aria-label="New flow"
      onSubmit={(e) => {
        e.preventDefault()
        if (problem || !id) return
        const draft: FlowDocument = {
          schemaVersion: 1,
          id,
          version: 1,
          name: name || id,
          trigger: { path: path || id, respond: 'accepted' },
          nodes: [],
          edges: [],
        }
        navigate(`/flows/${id}`, { state: { draft } satisfies DraftState })
      }}
    >
      <h2>New flow</h2>
      <div className="form-grid">
        <label className="field">
          <span>Id</span>
          <input
            name="flow-id"
            className="code-input"
            value={id}
            placeholder="conduit-reports"
            required
            ref={(input) => input?.focus()}
            onChange={(e) => setId(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Name</span>
          <input
            name="flow-name"
            value={name}
            placeholder="Conduit report webhooks"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Webhook path</span>
          <input
            name="flow-path"
            className="code-input"
            value={path}
            placeholder={id || 'conduit/reports'}
            onChange={(e) => setPath(e.target.value)}
          />
          <small className="muted">POST /hooks/{path || id || '…'}</small>
        </label>
      </div>
      {problem && <p className="form-error">{problem}</p>}
      <div className="button-row">
        <button type="submit" className="primary" disabled={!id || Boolean(problem)}>
          Create and open
        </button>
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
