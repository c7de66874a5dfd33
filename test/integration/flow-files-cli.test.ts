/**
 * @module Flows in version control, end to end: versions saved through the API as the editor saves them,
 * `mapper export` / `import` / `diff` / `lineage` run as real processes against real runtimes over HTTP, files
 * byte-identical through export → import into a fresh runtime → export, git difftool and git diff driver setups,
 * `serve --flows` loading exported files, and the OpenLineage route checked against the facet's shape.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { openLineageErrors } from '../support/openlineage-schema.ts'
import { REPO_ROOT } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'
import { startServeProcess } from '../support/serve-process.ts'

const BIN = join(REPO_ROOT, 'bin/mapper.js')

interface Outcome {
  code: number | null
  stdout: string
  stderr: string
}

/** `mapper …` as a user runs it: a child process (async, so the in-process runtimes keep answering). */
function mapper(args: string[], cwd = REPO_ROOT): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

const api = (rt: TestRuntime) => ['--server', rt.url, '--token', ADMIN_TOKEN]

/** Every file of a directory: name → bytes as text. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  )
}

/** A new flow as the editor creates one: a branch with a two-line condition and a multi-line mapping. */
function ordersFlow(version: number): FlowDocument {
  return {
    schemaVersion: 1,
    id: 'orders',
    version,
    name: 'Shop orders',
    trigger: { path: 'shop/orders' },
    nodes: [
      {
        id: 'auth',
        kind: 'verify',
        config: { scheme: 'bearer', secret: { ref: 'SHOP_TOKEN' } },
        position: { x: 0, y: 0 },
      },
      {
        id: 'route',
        kind: 'branch',
        config: { cases: [{ port: 'big', when: '$sum(lines.(price * qty))\n  > 100' }] },
        position: { x: 240, y: 0 },
      },
      {
        id: 'map',
        kind: 'transform',
        name: 'Order → ERP',
        config: { expression: '{\n  "orderId": id,\n  "customer": customer.email,\n  "total": $sum(lines.price)\n}' },
        position: { x: 480, y: 0 },
      },
      {
        id: 'erp',
        kind: 'http',
        config: { method: 'POST', url: 'https://erp.example/orders', retry: { delaysMs: [0, 5000] } },
        position: { x: 720, y: 0 },
      },
    ],
    edges: [
      { from: 'auth', port: 'ok', to: 'route' },
      { from: 'route', port: 'big', to: 'map' },
      { from: 'map', port: 'ok', to: 'erp' },
    ],
  }
}

describe('flows in git: mapper export, import, diff and lineage against real runtimes', () => {
  let rt: TestRuntime
  let fresh: TestRuntime
  const work = mkdtempSync(join(tmpdir(), 'mapper-flow-files-'))
  const exported = join(work, 'exported')
  const reexported = join(work, 'reexported')
  let latestReport: FlowDocument

  beforeAll(async () => {
    ;[rt, fresh] = await Promise.all([
      startTestRuntime({ flows: ['conduit-reports'] }),
      startTestRuntime({ flows: [] }),
    ])
    // The editor saves version 2: two lines of the report mapping changed.
    const v1 = (await rt.call('GET', '/flows/conduit-reports')).body as FlowDocument
    const v2 = structuredClone(v1)
    v2.version = 2
    const mapReport = v2.nodes.find((n) => n.id === 'map-report')!
    mapReport.config.expression = String(mapReport.config.expression)
      .replace('"jobId": data.jobId,', '"jobId": data.job.id,')
      .replace('"source": "conduit",', '"source": "conduit",\n  "region": data.region,')
    expect((await rt.call('PUT', '/flows/conduit-reports', v2)).status).toBe(201)
    // Version 3: a node moved on the canvas and another renamed.
    const v3 = structuredClone(v2)
    v3.version = 3
    v3.nodes.find((n) => n.id === 'crm-report')!.position = { x: 1340, y: 40 }
    v3.nodes.find((n) => n.id === 'map-failure')!.name = 'Failure → CRM note'
    expect((await rt.call('PUT', '/flows/conduit-reports', v3)).status).toBe(201)
    latestReport = v3
    // A second flow, new in the editor: versions 1 and 2.
    expect((await rt.call('PUT', '/flows/orders', ordersFlow(1))).status).toBe(201)
    const orders2 = ordersFlow(2)
    orders2.nodes[0]!.config.header = 'x-shop-token'
    expect((await rt.call('PUT', '/flows/orders', orders2)).status).toBe(201)
  })

  afterAll(async () => {
    await Promise.all([rt?.stop(), fresh?.stop()])
    rmSync(work, { recursive: true, force: true })
  })

  it('exports the latest version of every flow as canonical files, one line per file', async () => {
    const run = await mapper(['export', '--out', exported, ...api(rt)])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `${exported}/conduit-reports.flow.json: written (conduit-reports v3)`,
      `${exported}/orders.flow.json: written (orders v2)`,
    ])
    const text = readFileSync(join(exported, 'conduit-reports.flow.json'), 'utf8')
    const file = JSON.parse(text)
    expect(file).not.toHaveProperty('version')
    expect(file.nodes.find((n: { id: string }) => n.id === 'map-report').config.expression).toContain(
      '  "region": data.region,',
    )
    expect(text).toContain('      "position": { "x": 1340, "y": 40 }\n')
    expect(text.endsWith('}\n')).toBe(true)
  })

  it('exports again to the very same bytes, and says so', async () => {
    const before = snapshot(exported)
    const run = await mapper(['export', '--out', exported, ...api(rt)])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('conduit-reports.flow.json: unchanged (conduit-reports v3)')
    expect(run.stdout).toContain('orders.flow.json: unchanged (orders v2)')
    expect(snapshot(exported)).toEqual(before)
  })

  it('exports the same files straight from the store of the runtime (--data)', async () => {
    const fromStore = join(work, 'from-store')
    const run = await mapper(['export', '--out', fromStore, '--data', rt.dataDir])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(snapshot(fromStore)).toEqual(snapshot(exported))
  })

  it('checks exported files with mapper validate', async () => {
    const run = await mapper([
      'validate',
      join(exported, 'conduit-reports.flow.json'),
      join(exported, 'orders.flow.json'),
    ])
    expect(run.stdout).toContain(`✓ ${exported}/conduit-reports.flow.json  (conduit-reports, 10 nodes`)
    expect(run.stdout).not.toContain('note:')
    expect(run.code).toBe(0)
  })

  it('imports into a fresh runtime as new versions, then exports byte-identical files', async () => {
    const files = ['conduit-reports.flow.json', 'orders.flow.json'].map((name) => join(exported, name))
    const run = await mapper(['import', ...files, ...api(fresh)])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      'conduit-reports: saved as version 1',
      'orders: saved as version 1',
    ])
    const back = await mapper(['export', '--out', reexported, ...api(fresh)])
    expect(back.code).toBe(0)
    expect(snapshot(reexported)).toEqual(snapshot(exported))
  })

  it('keeps multi-line expressions as strings in the API, exactly as the editor saved them', async () => {
    const imported = (await fresh.call('GET', '/flows/conduit-reports')).body as FlowDocument
    const expression = (doc: FlowDocument) => doc.nodes.find((n) => n.id === 'map-report')?.config.expression
    expect(typeof expression(imported)).toBe('string')
    expect(expression(imported)).toBe(expression(latestReport))
    const orders = (await fresh.call('GET', '/flows/orders')).body as FlowDocument
    expect(orders.nodes[1]?.config).toEqual({ cases: [{ port: 'big', when: '$sum(lines.(price * qty))\n  > 100' }] })
  })

  it('saves nothing when the files equal the latest versions', async () => {
    const run = await mapper(['import', '--flows', exported, ...api(fresh)])
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      'conduit-reports: unchanged (version 1)',
      'orders: unchanged (version 1)',
    ])
    expect((await fresh.call('GET', '/flows/conduit-reports/versions')).body).toHaveLength(1)
  })

  it('saves a changed file as the next version, whatever version the file says, and deploys it on request', async () => {
    const edited = join(work, 'edited')
    cpSync(exported, edited, { recursive: true })
    const path = join(edited, 'orders.flow.json')
    const file = JSON.parse(readFileSync(path, 'utf8'))
    file.version = 42
    file.nodes[3].config.method = 'PUT'
    writeFileSync(path, JSON.stringify(file))
    const run = await mapper(['import', path, '--deploy', '--reason', 'reviewed in #12', ...api(fresh)])
    expect(run.stdout.trim()).toBe('orders: saved as version 2, deployed')
    expect(((await fresh.call('GET', '/flows/orders')).body as FlowDocument).nodes[3]?.config.method).toBe('PUT')
    const flows = (await fresh.call('GET', '/flows')).body as Array<{ id: string; deployedVersion: number }>
    expect(flows.find((flow) => flow.id === 'orders')?.deployedVersion).toBe(2)
  })

  it('refuses a file whose name is not its flow id, and exits 1', async () => {
    const path = join(work, 'wrong-name.flow.json')
    cpSync(join(exported, 'orders.flow.json'), path)
    const run = await mapper(['import', path, ...api(fresh)])
    expect(run.stdout.trim()).toBe(
      'orders: not imported: the file is named wrong-name.flow.json but holds the flow "orders"',
    )
    expect(run.code).toBe(1)
  })

  describe('mapper diff', () => {
    const v1File = () => join(work, 'v1', 'conduit-reports.flow.json')
    const v3File = () => join(exported, 'conduit-reports.flow.json')

    beforeAll(async () => {
      const run = await mapper([
        'export',
        '--flow',
        'conduit-reports',
        '--version',
        '1',
        '--out',
        join(work, 'v1'),
        ...api(rt),
      ])
      expect(run.code).toBe(0)
    })

    it('names what changed between two files and exits 1', async () => {
      const run = await mapper(['diff', v1File(), v3File()])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(1)
      const lines = run.stdout.trimEnd().split('\n')
      expect(lines.slice(0, 2)).toEqual([`--- ${v1File()}`, `+++ ${v3File()}`])
      expect(lines).toContain('  ~ renamed  map-failure: "Failure → CRM job note" → "Failure → CRM note"')
      expect(lines).toContain('  ~ moved    crm-report: (1300, 40) → (1340, 40)')
      expect(run.stdout).toContain(
        [
          '  ~ changed  map-report (transform)',
          '      config.expression:',
          '        @@ -1,8 +1,9 @@',
          '         {',
          '           "externalId": data.reportId,',
          '        -  "jobId": data.jobId,',
          '        +  "jobId": data.job.id,',
        ].join('\n'),
      )
      expect(run.stdout).toContain('        +  "region": data.region,')
      expect(lines.at(-1)).toBe('3 changes (nodes: 1 renamed, 1 moved, 1 changed)')
    })

    it('leaves moves out with --ignore-positions', async () => {
      const run = await mapper(['diff', '--ignore-positions', v1File(), v3File()])
      expect(run.stdout).not.toContain('moved')
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('2 changes (nodes: 1 renamed, 1 changed)')
    })

    it('exits 0 with "no changes" for equal versions, in either file form', async () => {
      const apiForm = join(work, 'api-form.flow.json')
      writeFileSync(apiForm, JSON.stringify(latestReport, null, 2))
      const run = await mapper(['diff', v3File(), apiForm])
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('no changes')
      expect(run.code).toBe(0)
    })

    it('diffs two saved versions of a running runtime: flow@1 flow@3', async () => {
      const fromFiles = await mapper(['diff', v1File(), v3File()])
      const run = await mapper(['diff', 'conduit-reports@1', 'conduit-reports@3', ...api(rt)])
      expect(run.code).toBe(1)
      expect(run.stdout.split('\n').slice(0, 2)).toEqual(['--- conduit-reports@1', '+++ conduit-reports@3'])
      expect(run.stdout.split('\n').slice(2)).toEqual(fromFiles.stdout.split('\n').slice(2))
    })

    it('prints JSON with --json', async () => {
      const run = await mapper(['diff', '--json', v1File(), v3File()])
      const diff = JSON.parse(run.stdout)
      expect(diff.equal).toBe(false)
      expect(diff.nodes.moved).toEqual([{ id: 'crm-report', from: { x: 1300, y: 40 }, to: { x: 1340, y: 40 } }])
      expect(diff.nodes.changed[0].changes[0].path).toBe('config.expression')
    })

    it('exits 2 on a side it cannot read', async () => {
      const run = await mapper(['diff', v1File(), join(work, 'missing.flow.json')])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('missing.flow.json: no such file')
    })

    describe('in git', () => {
      const repo = join(work, 'repo')
      const git = (...args: string[]) => {
        const run = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
          cwd: repo,
          encoding: 'utf8',
          env: { ...process.env, GIT_PAGER: 'cat', NO_COLOR: '1' },
        })
        if (run.status !== 0 && run.status !== 1) throw new Error(`git ${args.join(' ')}: ${run.stderr}`)
        return run.stdout
      }

      beforeAll(() => {
        mkdirSync(join(repo, 'flows'), { recursive: true })
        git('init', '-q')
        cpSync(v1File(), join(repo, 'flows', 'conduit-reports.flow.json'))
        git('add', '.')
        git('commit', '-q', '-m', 'v1')
        cpSync(v3File(), join(repo, 'flows', 'conduit-reports.flow.json'))
      })

      it('shows a move as one changed line in a plain git diff', () => {
        const plain = git('diff', '--no-ext-diff', '-U0')
        expect(plain).toContain('-      "position": { "x": 1300, "y": 40 }\n+      "position": { "x": 1340, "y": 40 }')
        expect(plain).toContain('-          "  \\"jobId\\": data.jobId,",\n+          "  \\"jobId\\": data.job.id,",')
      })

      it('runs as git difftool -x (two paths)', () => {
        const out = git(
          'difftool',
          '-y',
          '-x',
          `"${process.execPath}" "${BIN}" diff`,
          '--',
          'flows/conduit-reports.flow.json',
        )
        expect(out).toContain('  ~ moved    crm-report: (1300, 40) → (1340, 40)')
        expect(out).toContain('        +  "jobId": data.job.id,')
      })

      it('runs as a git diff driver (seven arguments), so git diff shows the semantic diff', () => {
        writeFileSync(join(repo, '.gitattributes'), '*.flow.json diff=mapper\n')
        git('config', 'diff.mapper.command', `"${process.execPath}" "${BIN}" diff`)
        const out = git('diff')
        expect(out).toContain('--- a/flows/conduit-reports.flow.json\n+++ b/flows/conduit-reports.flow.json')
        expect(out).toContain('  ~ renamed  map-failure: "Failure → CRM job note" → "Failure → CRM note"')
      })
    })
  })

  it('loads exported files with serve --flows (either form) as deployed versions', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mapper-serve-files-'))
    const serve = await startServeProcess({
      flowsDir: exported,
      dataDir,
      env: { MAPPER_ADMIN_TOKEN: ADMIN_TOKEN, SHOP_TOKEN: 's', CONDUIT_WEBHOOK_SECRET: 'c', CRM_API_KEY: 'k' },
    })
    try {
      const flows = await (
        await fetch(`${serve.url}/api/flows`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).json()
      expect(flows).toEqual([
        expect.objectContaining({ id: 'conduit-reports', version: 1, deployedVersion: 1 }),
        expect.objectContaining({ id: 'orders', version: 1, deployedVersion: 1 }),
      ])
      const back = await mapper([
        'export',
        '--out',
        join(work, 'from-serve'),
        '--server',
        serve.url,
        '--token',
        ADMIN_TOKEN,
      ])
      expect(back.code).toBe(0)
      expect(snapshot(join(work, 'from-serve'))).toEqual(snapshot(exported))
    } finally {
      await serve.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  describe('OpenLineage', () => {
    it('answers GET …/versions/:v/openlineage with a run event in the columnLineage facet’s shape', async () => {
      const answer = await rt.call('GET', '/flows/conduit-reports/versions/3/openlineage')
      expect(answer.status).toBe(200)
      expect(openLineageErrors(answer.body)).toEqual([])
      const mapReport = answer.body.outputs.find((o: { name: string }) => o.name === 'conduit-reports/map-report')
      expect(mapReport.facets.columnLineage.fields.region.inputFields).toEqual([
        expect.objectContaining({ namespace: 'mapper-studio', name: 'hooks/conduit/reports', field: 'data.region' }),
      ])
      expect(mapReport.facets.columnLineage.fields.jobId.inputFields[0].field).toBe('data.job.id')
    })

    it('lets a viewer read it, takes a namespace, and answers 404 for a version that does not exist', async () => {
      const token = (await rt.call('POST', '/tokens', { role: 'viewer', name: 'catalogue' })).body.token
      const answer = await rt.call(
        'GET',
        '/flows/conduit-reports/versions/1/openlineage?namespace=prod',
        undefined,
        token,
      )
      expect(answer.status).toBe(200)
      expect(answer.body.job).toEqual(expect.objectContaining({ namespace: 'prod', name: 'conduit-reports' }))
      expect((await rt.call('GET', '/flows/conduit-reports/versions/9/openlineage')).status).toBe(404)
    })

    it('prints the same event with mapper lineage, from the API or from the store', async () => {
      const route = (await rt.call('GET', '/flows/orders/versions/2/openlineage')).body
      const viaApi = await mapper(['lineage', '--flow', 'orders', ...api(rt)])
      expect(viaApi.code).toBe(0)
      expect(JSON.parse(viaApi.stdout)).toEqual(route)
      const viaStore = await mapper(['lineage', '--flow', 'orders', '--version', '2', '--data', rt.dataDir])
      expect(JSON.parse(viaStore.stdout)).toEqual(route)
      const summary = await mapper(['lineage', '--flow', 'orders', '--summary', ...api(rt)])
      expect(summary.stdout).toContain('output orders/map\n  orderId ← id\n  customer ← customer.email')
    })
  })
})
