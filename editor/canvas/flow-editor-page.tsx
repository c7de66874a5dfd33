/** @module /flows/:id — the canvas with its palette, toolbar, inspector, test run and issues. */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react'
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react'
import { Link, useBlocker, useLocation, useNavigate, useParams } from 'react-router'
import { documentFromFile, flowFileText } from '../../runtime/files/flow-file-format.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { type ApiError, api } from '../api/client.ts'
import type { FlowDocument, FlowIssue } from '../api/types.ts'
import { CanaryBanner } from '../deploy/canary-banner.tsx'
import { DeployDialog } from '../deploy/deploy-dialog.tsx'
import { Inspector } from '../inspector/inspector.tsx'
import { ErrorState, Loading } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useDirty, useFlowStore } from '../state/flow-store.ts'
import { issueText } from '../state/issue-text.ts'
import { useCan } from '../state/session.ts'
import { TestPanel } from '../testrun/test-panel.tsx'
import { FlowCanvas } from './flow-canvas.tsx'
import { Palette } from './palette.tsx'

const MappingEditor = lazy(() => import('../mapping/mapping-editor.tsx').then((m) => ({ default: m.MappingEditor })))

type SideTab = 'inspect' | 'test' | 'issues'

/** What the flows list hands over when it opens a flow that is not saved yet (new or imported). */
export interface DraftState {
  draft?: FlowDocument
}

export function FlowEditorPage() {
  const { id = '' } = useParams()
  const location = useLocation()
  const draftRef = useRef((location.state as DraftState | null)?.draft)
  const load = useFlowStore((s) => s.load)
  const loadedId = useFlowStore((s) => s.flowId)
  const [error, setError] = useState<Error | undefined>()
  const [loading, setLoading] = useState(true)
  const [attempt, setAttempt] = useState(0)

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` reloads on demand
  useEffect(() => {
    const controller = new AbortController()
    setLoading(true)
    setError(undefined)
    const draft = draftRef.current
    const loading = draft
      ? api.listFlows(controller.signal).then((flows) => {
          const summary = flows.find((f) => f.id === id)
          load(
            { ...draft, id, version: (summary?.version ?? 0) + 1 },
            { latestVersion: summary?.version ?? 0, deployedVersion: summary?.deployedVersion ?? null, saved: false },
          )
        })
      : Promise.all([api.getFlow(id, controller.signal), api.listFlows(controller.signal)]).then(([doc, flows]) => {
          const summary = flows.find((f) => f.id === id)
          load(doc, {
            latestVersion: summary?.version ?? doc.version,
            deployedVersion: summary?.deployedVersion ?? null,
            saved: true,
          })
        })
    loading
      .catch((e: Error) => {
        if (e.name !== 'AbortError') setError(e)
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false)
      })
    return () => controller.abort()
  }, [id, attempt, load])

  if (error) {
    return (
      <div className="page">
        <ErrorState error={error} retry={() => setAttempt((a) => a + 1)} />
        <p>
          <Link to="/flows">Back to the flows</Link>
        </p>
      </div>
    )
  }
  if (loading || loadedId !== id) return <Loading what={`flow ${id}`} />
  return (
    <ReactFlowProvider>
      <FlowEditor flowId={id} reload={() => setAttempt((a) => a + 1)} />
    </ReactFlowProvider>
  )
}

interface Conflict {
  latest: number
}

function FlowEditor({ flowId, reload }: { flowId: string; reload(): void }) {
  const canSave = useCan('save')
  const canTest = useCan('test')
  const canDeploy = useCan('deploy')
  const canListSecrets = useCan('secrets')
  const readOnly = !canSave
  const navigate = useNavigate()
  const { fitView } = useReactFlow()
  const meta = useFlowStore((s) => s.meta)
  const latestVersion = useFlowStore((s) => s.latestVersion)
  const deployedVersion = useFlowStore((s) => s.deployedVersion)
  const issueCount = useFlowStore((s) => s.issues.length)
  const canUndo = useFlowStore((s) => s.past.length > 0)
  const canRedo = useFlowStore((s) => s.future.length > 0)
  const dirty = useDirty()
  const [tab, setTab] = useState<SideTab>('inspect')
  const [saving, setSaving] = useState(false)
  const [deploying, setDeploying] = useState(false)
  const [deployDialog, setDeployDialog] = useState(false)
  /** Bumped by every deploy from here, so the canary banner reads the flow again. */
  const [canaryKey, setCanaryKey] = useState(0)
  const [conflict, setConflict] = useState<Conflict | null>(null)
  const [secretNames, setSecretNames] = useState<string[] | null>(null)
  const [mappingNode, setMappingNode] = useState<string | null>(null)
  const importInput = useRef<HTMLInputElement>(null)

  useEffect(() => {
    if (!canListSecrets) return
    const controller = new AbortController()
    api
      .listSecrets(controller.signal)
      .then((secrets) => setSecretNames(secrets.map((s) => s.name).sort()))
      .catch(() => setSecretNames(null))
    return () => controller.abort()
  }, [canListSecrets])

  // Keys: Delete removes the selection, Ctrl+Z undoes, Ctrl+Shift+Z (or Ctrl+Y) redoes — not while typing.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null
      if (target?.closest('input, textarea, select, [contenteditable="true"], .modal')) return
      const store = useFlowStore.getState()
      const mod = e.ctrlKey || e.metaKey
      if (!readOnly && (e.key === 'Delete' || e.key === 'Backspace')) {
        e.preventDefault()
        store.deleteSelected()
      } else if (!readOnly && mod && e.key.toLowerCase() === 'z') {
        e.preventDefault()
        if (e.shiftKey) store.redo()
        else store.undo()
      } else if (!readOnly && mod && e.key.toLowerCase() === 'y') {
        e.preventDefault()
        store.redo()
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [readOnly])

  useEffect(() => {
    if (!dirty) return
    const warn = (e: BeforeUnloadEvent) => e.preventDefault()
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [dirty])

  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname,
  )

  const save = useCallback(
    async (onTopOf?: number) => {
      const store = useFlowStore.getState()
      const version = (onTopOf ?? store.latestVersion) + 1
      const doc = { ...store.document(), version }
      setSaving(true)
      try {
        await api.saveFlow(doc)
        store.markSaved(version)
        setConflict(null)
        toast('ok', `Saved version ${version}`)
        navigate(`/flows/${flowId}`, { replace: true, state: null })
      } catch (e) {
        const error = e as ApiError
        if (error.status === 409) {
          const latest =
            (error.details as { latest?: number } | undefined)?.latest ??
            (await api.getFlow(flowId).then(
              (d) => d.version,
              () => version,
            ))
          setConflict({ latest })
        } else if (error.status === 400 && Array.isArray(error.details)) {
          store.showServerIssues(error.details as FlowIssue[])
          setTab('issues')
          toast('error', `Not saved: ${error.message}`)
        } else {
          toast('error', `Not saved: ${error.message}`)
        }
      } finally {
        setSaving(false)
      }
    },
    [flowId, navigate],
  )

  async function deploy() {
    setDeploying(true)
    try {
      await api.deployFlow(flowId, latestVersion)
      useFlowStore.getState().setDeployed(latestVersion)
      toast('ok', `Version ${latestVersion} now takes new webhooks`)
    } catch (e) {
      toast('error', `Not deployed: ${(e as Error).message}`)
    } finally {
      setDeploying(false)
    }
  }

  function exportFile() {
    const doc = useFlowStore.getState().document()
    // The same file `mapper export` writes, so a download committed to git diffs cleanly against it.
    const blob = new Blob([flowFileText(doc, nodeKinds)], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = `${doc.id}.flow.json`
    link.click()
    setTimeout(() => URL.revokeObjectURL(url), 1_000)
  }

  async function importFile(file: File) {
    try {
      // A file as `mapper export` writes it (expressions as lines) or as the API gives it: both read.
      const doc = documentFromFile(JSON.parse(await file.text()), nodeKinds) as FlowDocument
      if (!doc || !Array.isArray(doc.nodes) || !Array.isArray(doc.edges)) {
        throw new Error('the file is not a flow document (no nodes and edges)')
      }
      if (
        doc.id &&
        doc.id !== flowId &&
        !window.confirm(`The file holds flow "${doc.id}". Put its content into "${flowId}"?`)
      ) {
        return
      }
      useFlowStore.getState().replaceDocument({ ...doc, trigger: doc.trigger ?? { path: flowId } })
      window.requestAnimationFrame(() => void fitView({ padding: 0.15 }))
      toast('info', `Imported ${file.name}: save to make it a new version`)
    } catch (e) {
      toast('error', `Not imported: ${(e as Error).message}`)
    }
  }

  const versionLabel = latestVersion === 0 ? 'new flow' : `v${latestVersion}`
  return (
    <div className="editor">
      <div className="toolbar" role="toolbar" aria-label="Flow">
        <div className="toolbar-title">
          <Link to="/flows" className="muted">
            Flows
          </Link>
          <span className="muted">/</span>
          <h1 title={meta.description}>{meta.name || flowId}</h1>
          <span className="chip" data-testid="version-chip">
            {versionLabel}
          </span>
          <span className={`chip ${dirty ? 'chip-warn' : 'chip-ok'}`} data-testid="save-state">
            {dirty ? 'unsaved changes' : 'saved'}
          </span>
          <span className={`chip ${deployedVersion ? 'chip-deployed' : ''}`} data-testid="deployed-chip">
            {deployedVersion ? `deployed v${deployedVersion}` : 'not deployed'}
          </span>
        </div>
        <div className="toolbar-actions">
          {!readOnly && (
            <>
              <button
                type="button"
                className="ghost"
                disabled={!canUndo}
                title="Undo (Ctrl+Z)"
                onClick={() => useFlowStore.getState().undo()}
              >
                Undo
              </button>
              <button
                type="button"
                className="ghost"
                disabled={!canRedo}
                title="Redo (Ctrl+Shift+Z)"
                onClick={() => useFlowStore.getState().redo()}
              >
                Redo
              </button>
              <button
                type="button"
                className="ghost"
                title="Auto layout"
                onClick={() => {
                  useFlowStore.getState().autoLayout()
                  window.requestAnimationFrame(() => void fitView({ padding: 0.15 }))
                }}
              >
                Layout
              </button>
            </>
          )}
          <button type="button" className="ghost" title="Fit view" onClick={() => void fitView({ padding: 0.15 })}>
            Fit
          </button>
          <span className="toolbar-sep" />
          <button type="button" className="ghost" onClick={exportFile} title="Download the canonical flow file">
            Export
          </button>
          {!readOnly && (
            <>
              <button type="button" className="ghost" onClick={() => importInput.current?.click()}>
                Import
              </button>
              <input
                ref={importInput}
                type="file"
                accept=".json,application/json"
                hidden
                data-testid="import-input"
                onChange={(e) => {
                  const file = e.target.files?.[0]
                  if (file) void importFile(file)
                  e.target.value = ''
                }}
              />
            </>
          )}
          {latestVersion > 0 && (
            <Link className="button ghost" to={`/flows/${flowId}/versions/${latestVersion}`}>
              Versions
            </Link>
          )}
          {(canSave || canDeploy) && <span className="toolbar-sep" />}
          {canSave && (
            <button
              type="button"
              className="primary"
              disabled={saving || !dirty}
              onClick={() => void save()}
              title={`Save as version ${latestVersion + 1}`}
            >
              {saving ? 'Saving…' : 'Save'}
            </button>
          )}
          {canDeploy && (
            <button
              type="button"
              className="accent"
              disabled={deploying || dirty || latestVersion === 0 || deployedVersion === latestVersion}
              title={
                dirty
                  ? 'Save first: only saved versions deploy'
                  : deployedVersion === latestVersion
                    ? `v${latestVersion} is deployed`
                    : `Deploy v${latestVersion}`
              }
              // With a version deployed, the dialog previews the impact first; a first deploy has nothing to compare.
              onClick={() => (deployedVersion === null ? void deploy() : setDeployDialog(true))}
            >
              {deploying
                ? 'Deploying…'
                : deployedVersion === latestVersion && !dirty
                  ? `Deployed v${latestVersion}`
                  : `Deploy v${latestVersion || 1}`}
            </button>
          )}
        </div>
      </div>
      <CanaryBanner
        flowId={flowId}
        refreshKey={canaryKey}
        canAct={canDeploy}
        onPromoted={(version) => useFlowStore.getState().setDeployed(version)}
      />
      <div className={`editor-body${readOnly ? ' read-only' : ''}`}>
        {!readOnly && <Palette />}
        <FlowCanvas readOnly={readOnly} />
        <aside className="side-panel" aria-label="Details">
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'inspect'} onClick={() => setTab('inspect')}>
              Inspect
            </button>
            {canTest && (
              <button type="button" role="tab" aria-selected={tab === 'test'} onClick={() => setTab('test')}>
                Test run
              </button>
            )}
            <button type="button" role="tab" aria-selected={tab === 'issues'} onClick={() => setTab('issues')}>
              Issues{' '}
              <span className={`count ${issueCount ? 'count-error' : 'count-ok'}`} data-testid="issue-count">
                {issueCount}
              </span>
            </button>
          </div>
          <div className="side-content">
            {tab === 'inspect' && (
              <Inspector readOnly={readOnly} secretNames={secretNames} onOpenMapping={setMappingNode} />
            )}
            {tab === 'test' && canTest && <TestPanel flowId={flowId} canTest={canTest} />}
            {tab === 'issues' && <IssuesPanel onPick={() => setTab('inspect')} />}
          </div>
        </aside>
      </div>
      {deployDialog && deployedVersion !== null && (
        <DeployDialog
          flowId={flowId}
          version={latestVersion}
          deployedVersion={deployedVersion}
          onDeployed={(version, canary) => {
            if (!canary) useFlowStore.getState().setDeployed(version)
            setCanaryKey((key) => key + 1)
            setDeployDialog(false)
          }}
          onClose={() => setDeployDialog(false)}
        />
      )}
      {conflict && (
        <ConflictDialog
          latest={conflict.latest}
          onOverwrite={() => void save(conflict.latest)}
          onReload={() => {
            if (window.confirm('Discard your changes and load the saved version?')) {
              setConflict(null)
              reload()
            }
          }}
          onDownload={exportFile}
          onCancel={() => setConflict(null)}
        />
      )}
      {blocker.state === 'blocked' && (
        <div className="modal-backdrop">
          <div className="modal dialog" role="dialog" aria-modal="true" aria-labelledby="leave-title">
            <h2 id="leave-title">Leave with unsaved changes?</h2>
            <p>The canvas has changes that are not saved as a version.</p>
            <div className="button-row">
              <button type="button" className="danger" onClick={() => blocker.proceed()}>
                Leave and discard
              </button>
              <button type="button" className="primary" onClick={() => blocker.reset()}>
                Stay
              </button>
            </div>
          </div>
        </div>
      )}
      {mappingNode && (
        <Suspense fallback={<Loading what="the mapping editor" />}>
          <MappingEditor nodeId={mappingNode} readOnly={readOnly} onClose={() => setMappingNode(null)} />
        </Suspense>
      )}
    </div>
  )
}

function ConflictDialog(props: {
  latest: number
  onOverwrite(): void
  onReload(): void
  onDownload(): void
  onCancel(): void
}) {
  return (
    <div className="modal-backdrop">
      <div className="modal dialog" role="alertdialog" aria-modal="true" aria-labelledby="conflict-title">
        <h2 id="conflict-title">Someone saved version {props.latest} meanwhile</h2>
        <p>
          Your changes were not saved, and they are still on the canvas. Save them as version {props.latest + 1} on top
          of theirs, or load version {props.latest} instead.
        </p>
        <div className="button-row">
          <button type="button" className="primary" onClick={props.onOverwrite}>
            Save mine as v{props.latest + 1}
          </button>
          <button type="button" className="ghost" onClick={props.onReload}>
            Load v{props.latest} (discard mine)
          </button>
          <button type="button" className="ghost" onClick={props.onDownload}>
            Download mine
          </button>
          <button type="button" className="ghost" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  )
}

function IssuesPanel({ onPick }: { onPick(): void }) {
  const issues = useFlowStore((s) => s.issues)
  const select = useFlowStore((s) => s.select)
  if (issues.length === 0) {
    return (
      <div className="state state-empty">
        <strong>No issues</strong>
        <div className="state-body">The graph checks find nothing: this flow can be saved and deployed.</div>
      </div>
    )
  }
  return (
    <div>
      <h2 className="panel-title">
        {issues.length} issue{issues.length === 1 ? '' : 's'}
      </h2>
      <ul className="issue-list" data-testid="issues">
        {issues.map((issue) => (
          <li key={issue.message} className="issue">
            {issue.nodeId ? (
              <button
                type="button"
                className="link"
                onClick={() => {
                  select([issue.nodeId as string])
                  onPick()
                }}
              >
                {issue.nodeId}
              </button>
            ) : (
              <strong>flow</strong>
            )}{' '}
            {issue.field && <code>{issue.field}</code>} {issueText(issue)}
          </li>
        ))}
      </ul>
    </div>
  )
}
