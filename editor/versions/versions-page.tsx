/** @module /flows/:id/versions/:v — the saved versions of a flow, and what changed between two of them. */
import { useState } from 'react'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { flowFileText } from '../../runtime/files/flow-file-format.ts'
import { findNodeKind, nodeKinds } from '../../runtime/nodes/index.ts'
import { api } from '../api/client.ts'
import type { FlowDocument, FlowVersionSummary } from '../api/types.ts'
import type { DraftState } from '../canvas/flow-editor-page.tsx'
import { DeployDialog } from '../deploy/deploy-dialog.tsx'
import { EmptyState, ErrorState, Loading } from '../shell/states.tsx'
import { toast } from '../shell/toasts.tsx'
import { useResource } from '../shell/use-resource.ts'
import { useCan } from '../state/session.ts'
import { diffFlows, type FieldChange, type FlowDiff, isEmptyDiff } from './flow-diff.ts'

export function VersionsPage() {
  const { id = '', version: versionParam = '' } = useParams()
  const version = Number(versionParam)
  const [search, setSearch] = useSearchParams()
  const navigate = useNavigate()
  const canDeploy = useCan('deploy')
  const canSave = useCan('save')
  const versions = useResource((signal) => api.listVersions(id, signal), [id])
  const compareParam = search.get('compare')
  const compareTo =
    compareParam !== null ? Number(compareParam) : (versions.data?.find((v) => v.version < version)?.version ?? null)
  const documents = useResource(
    async (signal) => {
      const [current, previous] = await Promise.all([
        api.getVersion(id, version, signal),
        compareTo ? api.getVersion(id, compareTo, signal) : Promise.resolve(undefined),
      ])
      return { current, previous }
    },
    [id, version, compareTo],
  )
  const [deploying, setDeploying] = useState(false)
  const [deployDialog, setDeployDialog] = useState(false)

  if (!Number.isInteger(version) || version < 1) {
    return (
      <div className="page">
        <EmptyState title="Not a version">Versions are numbered from 1.</EmptyState>
      </div>
    )
  }
  const current = documents.data?.current
  const listed = versions.data?.find((v) => v.version === version)
  const latest = versions.data?.[0]?.version
  const deployedVersion = versions.data?.find((v) => v.deployed)?.version

  async function deploy() {
    setDeploying(true)
    try {
      await api.deployFlow(id, version)
      toast('ok', `Version ${version} now takes new webhooks`)
      versions.reload()
    } catch (e) {
      toast('error', `Not deployed: ${(e as Error).message}`)
    } finally {
      setDeploying(false)
    }
  }

  function download(doc: FlowDocument) {
    const url = URL.createObjectURL(new Blob([flowFileText(doc, nodeKinds)], { type: 'application/json' }))
    const link = document.createElement('a')
    link.href = url
    link.download = `${doc.id}.v${doc.version}.flow.json`
    link.click()
    setTimeout(() => URL.revokeObjectURL(url), 1_000)
  }

  return (
    <div className="page page-wide versions-page">
      <div className="page-head">
        <h1>
          <Link to={`/flows/${id}`} className="muted">
            {current?.name ?? id}
          </Link>
          <span className="muted">/</span> Version {version}
          {listed?.deployed && <span className="pill pill-ok">deployed</span>}
          {listed?.canary && <span className="pill pill-pending">canary {listed.canary.percent} %</span>}
        </h1>
        {current && (
          <div className="button-row">
            <button type="button" className="ghost" onClick={() => download(current)}>
              Download
            </button>
            {canSave && version !== latest && (
              <button
                type="button"
                className="ghost"
                title="Opens this version on the canvas; saving makes it the newest version"
                onClick={() => navigate(`/flows/${id}`, { state: { draft: current } satisfies DraftState })}
              >
                Restore as new version
              </button>
            )}
            <Link className="button ghost" to={`/flows/${id}`}>
              Open the flow
            </Link>
            {canDeploy && !listed?.deployed && (
              <button
                type="button"
                className="accent"
                disabled={deploying}
                onClick={() => (deployedVersion === undefined ? void deploy() : setDeployDialog(true))}
              >
                Deploy v{version}
              </button>
            )}
          </div>
        )}
      </div>
      {deployDialog && deployedVersion !== undefined && (
        <DeployDialog
          flowId={id}
          version={version}
          deployedVersion={deployedVersion}
          onDeployed={() => {
            setDeployDialog(false)
            versions.reload()
          }}
          onClose={() => setDeployDialog(false)}
        />
      )}
      <div className="versions-layout">
        <aside className="card versions-list" aria-label="Versions">
          <h2 className="panel-title">Versions</h2>
          {versions.error && <ErrorState error={versions.error} retry={versions.reload} />}
          {!versions.data && !versions.error && <Loading what="versions" />}
          <ol>
            {versions.data?.map((v) => (
              <VersionRow key={v.version} flowId={id} summary={v} current={v.version === version} />
            ))}
          </ol>
        </aside>
        <section className="versions-main">
          {documents.error && <ErrorState error={documents.error} retry={documents.reload} />}
          {!documents.data && !documents.error && <Loading what={`version ${version}`} />}
          {current && (
            <>
              <div className="card">
                <div className="compare-bar">
                  <h2>Changes</h2>
                  <label className="inline-field">
                    <span>from</span>
                    <select
                      name="compare"
                      value={compareTo ?? ''}
                      onChange={(e) => {
                        const next = new URLSearchParams(search)
                        next.set('compare', e.target.value)
                        setSearch(next, { replace: true })
                      }}
                    >
                      {compareTo === null && <option value="">—</option>}
                      {versions.data
                        ?.filter((v) => v.version !== version)
                        .map((v) => (
                          <option key={v.version} value={v.version}>
                            v{v.version}
                          </option>
                        ))}
                    </select>
                    <span>to v{version}</span>
                  </label>
                </div>
                {documents.data?.previous ? (
                  <DiffView diff={diffFlows(documents.data.previous, current)} />
                ) : (
                  <p className="muted">The first version: everything is new.</p>
                )}
              </div>
              <details className="card">
                <summary>
                  <strong>The document</strong>{' '}
                  <span className="muted">(as `mapper export` writes flows/{id}.flow.json)</span>
                </summary>
                <pre className="json-block tall">{flowFileText(current, nodeKinds)}</pre>
              </details>
            </>
          )}
        </section>
      </div>
    </div>
  )
}

function VersionRow({ flowId, summary, current }: { flowId: string; summary: FlowVersionSummary; current: boolean }) {
  return (
    <li className={current ? 'current' : undefined}>
      <Link to={`/flows/${flowId}/versions/${summary.version}`}>
        <strong>v{summary.version}</strong>
        {summary.deployed && <span className="pill pill-ok">deployed</span>}
        {summary.canary && <span className="pill pill-pending">canary {summary.canary.percent} %</span>}
        <span className="muted small">
          {new Date(summary.savedAt).toLocaleString()}
          {summary.savedBy ? ` · ${summary.savedBy}` : ''}
        </span>
      </Link>
    </li>
  )
}

function DiffView({ diff }: { diff: FlowDiff }) {
  if (isEmptyDiff(diff)) return <p className="muted">No differences.</p>
  return (
    <div className="diff" data-testid="diff">
      {diff.added.map((node) => (
        <div key={`+${node.id}`} className="diff-node diff-added">
          <span className="diff-mark">+</span> Node <code>{node.id}</code> added <KindLabel kind={node.kind} />
          {node.name && <span className="muted"> “{node.name}”</span>}
        </div>
      ))}
      {diff.removed.map((node) => (
        <div key={`-${node.id}`} className="diff-node diff-removed">
          <span className="diff-mark">−</span> Node <code>{node.id}</code> removed <KindLabel kind={node.kind} />
        </div>
      ))}
      {diff.changed.map((node) => (
        <div key={`~${node.id}`} className="diff-node diff-changed">
          <div>
            <span className="diff-mark">~</span> Node <code>{node.id}</code> changed <KindLabel kind={node.kind} />
          </div>
          <FieldChanges changes={node.changes} />
        </div>
      ))}
      {(diff.edgesAdded.length > 0 || diff.edgesRemoved.length > 0) && (
        <div className="diff-node">
          <div>Edges</div>
          <ul className="diff-fields">
            {diff.edgesAdded.map((e) => (
              <li key={`+${e.from}${e.port}${e.to}`} className="diff-added">
                + <code>{e.from}</code>.{e.port} → <code>{e.to}</code>
              </li>
            ))}
            {diff.edgesRemoved.map((e) => (
              <li key={`-${e.from}${e.port}${e.to}`} className="diff-removed">
                − <code>{e.from}</code>.{e.port} → <code>{e.to}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {diff.settings.length > 0 && (
        <div className="diff-node diff-changed">
          <div>Flow settings</div>
          <FieldChanges changes={diff.settings} />
        </div>
      )}
      {diff.moved.length > 0 && (
        <p className="muted small">
          Moved on the canvas:{' '}
          {diff.moved.map((id) => (
            <code key={id}>{id}</code>
          ))}
        </p>
      )}
    </div>
  )
}

function KindLabel({ kind }: { kind: string }) {
  const found = findNodeKind(kind)
  return (
    <span className="kind-label" style={{ color: found?.color }}>
      {found?.title ?? kind}
    </span>
  )
}

function FieldChanges({ changes }: { changes: FieldChange[] }) {
  return (
    <ul className="diff-fields">
      {changes.map((change) => (
        <li key={change.path}>
          <code>{change.path}</code>
          <span className="diff-values">
            <Value value={change.before} className="diff-before" />
            <span className="diff-arrow">→</span>
            <Value value={change.after} className="diff-after" />
          </span>
        </li>
      ))}
    </ul>
  )
}

function Value({ value, className }: { value: unknown; className: string }) {
  if (value === undefined) return <span className={`${className} muted`}>(none)</span>
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2)
  if (text.includes('\n')) return <JsonBlockText text={text} className={className} />
  return <span className={className}>{typeof value === 'string' ? `“${value}”` : text}</span>
}

function JsonBlockText({ text, className }: { text: string; className: string }) {
  return <pre className={`json-block ${className}`}>{text}</pre>
}
