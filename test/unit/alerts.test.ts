/**
 * @module The alert rules (ops/alerts.yml) against the code and the runbook: every expression queries metrics the
 * runtime really exports (runtime/server/metrics.ts), with labels and outcome values it really sets; every rule
 * has a severity and a runbook link whose anchor is a heading of docs/runbook.md; the required alerts exist.
 *
 * The project has no YAML dependency, so a small reader for the block-style subset the rules file uses is here;
 * it refuses anything else (flow collections, anchors, tabs), which keeps the file plain.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../runtime/server/metrics.ts'

const ROOT = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, ROOT)), 'utf8')

// --- a reader for block-style YAML: maps, lists, plain/quoted scalars, | and > block scalars

type Yaml = string | Yaml[] | { [key: string]: Yaml }

class YamlSubsetReader {
  private at = 0
  private readonly lines: string[]

  private constructor(text: string) {
    this.lines = text.split(/\r?\n/)
  }

  static parse(text: string): Yaml {
    const reader = new YamlSubsetReader(text)
    reader.skipBlank()
    const value = reader.block(reader.indentOf(reader.current()))
    reader.skipBlank()
    if (reader.at < reader.lines.length) reader.fail('unexpected content')
    return value
  }

  private current(): string {
    return this.lines[this.at] ?? ''
  }

  private fail(message: string): never {
    throw new Error(`YAML line ${this.at + 1}: ${message}: ${JSON.stringify(this.current())}`)
  }

  private indentOf(line: string): number {
    if (/^ *\t/.test(line)) this.fail('tab in indentation')
    return /^ */.exec(line)?.[0].length ?? 0
  }

  private skipBlank(): void {
    while (this.at < this.lines.length && /^\s*(#.*)?$/.test(this.current())) this.at++
  }

  private block(indent: number): Yaml {
    const text = this.current().slice(indent)
    return text === '-' || text.startsWith('- ') ? this.list(indent) : this.map(indent)
  }

  private list(indent: number): Yaml[] {
    const items: Yaml[] = []
    for (this.skipBlank(); this.at < this.lines.length; this.skipBlank()) {
      const line = this.current()
      const ind = this.indentOf(line)
      if (ind < indent) break
      const text = line.slice(ind)
      if (ind > indent || !(text === '-' || text.startsWith('- '))) this.fail('expected a list item')
      const rest = text.slice(1).trim()
      if (rest === '' || /^[\w.-]+:( |$)/.test(rest)) {
        // The item's content moves to indent + 2, where the rest of its map continues.
        if (rest === '') this.at++
        else this.lines[this.at] = `${' '.repeat(indent + 2)}${rest}`
        this.skipBlank()
        items.push(this.block(this.indentOf(this.current())))
      } else {
        items.push(this.scalar(rest))
        this.at++
      }
    }
    return items
  }

  private map(indent: number): Record<string, Yaml> {
    const out: Record<string, Yaml> = {}
    for (this.skipBlank(); this.at < this.lines.length; this.skipBlank()) {
      const line = this.current()
      const ind = this.indentOf(line)
      if (ind < indent) break
      if (ind > indent) this.fail('unexpected indentation')
      const entry = /^([A-Za-z_][\w.-]*):(?: +(.*))?$/.exec(line.slice(ind))
      if (!entry) this.fail('expected "key: value"')
      const key = entry[1] as string
      if (Object.hasOwn(out, key)) this.fail(`duplicate key ${key}`)
      const rest = (entry[2] ?? '').trim()
      this.at++
      if (/^[|>][+-]?$/.test(rest)) {
        out[key] = this.blockScalar(indent, rest)
      } else if (rest === '' || rest.startsWith('#')) {
        this.skipBlank()
        const next = this.at < this.lines.length ? this.indentOf(this.current()) : -1
        out[key] = next > indent ? this.block(next) : ''
      } else {
        out[key] = this.scalar(rest)
      }
    }
    return out
  }

  private blockScalar(parentIndent: number, header: string): string {
    const body: string[] = []
    let contentIndent = -1
    while (this.at < this.lines.length) {
      const line = this.current()
      if (line.trim() === '') {
        body.push('')
        this.at++
        continue
      }
      const ind = this.indentOf(line)
      if (ind <= parentIndent) break
      if (contentIndent < 0) contentIndent = ind
      if (ind < contentIndent) this.fail('block scalar line less indented than its first line')
      body.push(line.slice(contentIndent))
      this.at++
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop()
    const text = header.startsWith('>') ? body.join('\n').replace(/([^\n])\n(?=[^\n ])/g, '$1 ') : body.join('\n')
    return header.endsWith('-') ? text : `${text}\n`
  }

  private scalar(raw: string): string {
    if (raw.startsWith('"')) {
      const quoted = /^"(?:[^"\\]|\\.)*"/.exec(raw)?.[0]
      if (!quoted || !/^\s*(#.*)?$/.test(raw.slice(quoted.length))) this.fail('bad double-quoted scalar')
      return JSON.parse(quoted) as string
    }
    if (raw.startsWith("'")) {
      const quoted = /^'(?:[^']|'')*'/.exec(raw)?.[0]
      if (!quoted || !/^\s*(#.*)?$/.test(raw.slice(quoted.length))) this.fail('bad single-quoted scalar')
      return quoted.slice(1, -1).replace(/''/g, "'")
    }
    if (/^[[{&*!|>%@`]/.test(raw)) this.fail('unsupported YAML (flow collection, anchor, tag or reserved character)')
    return raw.replace(/\s+#.*$/, '').trim()
  }
}

// --- the rules file

interface Rule {
  group: string
  alert: string
  expr: string
  for: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

function asMap(value: Yaml | undefined, what: string): Record<string, Yaml> {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) throw new Error(`${what} is not a map`)
  return value
}

function asList(value: Yaml | undefined, what: string): Yaml[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`)
  return value
}

function asStringMap(value: Yaml | undefined, what: string): Record<string, string> {
  const map = asMap(value, what)
  const out: Record<string, string> = {}
  for (const [key, item] of Object.entries(map)) {
    if (typeof item !== 'string') throw new Error(`${what}.${key} is not a string`)
    out[key] = item
  }
  return out
}

function loadRules(text: string): Rule[] {
  const doc = asMap(YamlSubsetReader.parse(text), 'the document')
  return asList(doc.groups, 'groups').flatMap((groupValue, g) => {
    const group = asMap(groupValue, `groups[${g}]`)
    const groupName = typeof group.name === 'string' ? group.name : `groups[${g}]`
    return asList(group.rules, `${groupName}.rules`).map((ruleValue, r) => {
      const rule = asMap(ruleValue, `${groupName}.rules[${r}]`)
      const text = (key: string) => (typeof rule[key] === 'string' ? (rule[key] as string) : '')
      return {
        group: groupName,
        alert: text('alert'),
        expr: text('expr'),
        for: text('for'),
        labels: rule.labels === undefined ? {} : asStringMap(rule.labels, `${text('alert')}.labels`),
        annotations:
          rule.annotations === undefined ? {} : asStringMap(rule.annotations, `${text('alert')}.annotations`),
      }
    })
  })
}

// --- what runtime/server/metrics.ts exports

interface MetricDef {
  type: 'Counter' | 'Gauge' | 'Histogram'
  labels: string[]
}

/** The metrics a runtime really registers, read from its registry (not from the source text). */
async function exportedMetrics(): Promise<Map<string, MetricDef>> {
  const figures = { pending: 0, leased: 0, retrying: 0, deadLetters: 0, oldestDueMs: 0 }
  const { registry } = createMetrics(async () => figures)
  const types = { counter: 'Counter', gauge: 'Gauge', histogram: 'Histogram' } as const
  const metrics = new Map<string, MetricDef>()
  for (const metric of registry.getMetricsAsArray()) {
    const { name, labelNames, get } = metric as unknown as {
      name: string
      labelNames?: string[]
      get(): Promise<{ type: string }>
    }
    const { type } = await get.call(metric)
    if (!name.startsWith('mapper_') || !(type in types)) continue
    metrics.set(name, { type: types[type as keyof typeof types], labels: [...(labelNames ?? [])] })
  }
  return metrics
}

function receiveOutcomes(source: string): string[] {
  const union = /export type ReceiveOutcome =([\s\S]*?)\n\n/.exec(source)?.[1] ?? ''
  return [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string)
}

// --- what an expression references

/** Labels Prometheus itself attaches to every scraped series. */
const TARGET_LABELS = ['job', 'instance']
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count']
const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
])
const PROMQL_FUNCTIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'predict_linear',
  'resets',
  'changes',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'quantile_over_time',
  'histogram_quantile',
  'clamp',
  'clamp_min',
  'clamp_max',
  'abs',
  'ceil',
  'floor',
  'round',
  'absent',
  'absent_over_time',
  'vector',
  'scalar',
  'time',
  'timestamp',
  'label_replace',
  'label_join',
  'sort',
  'sort_desc',
])

/** The series a name stands for: the metric itself, or a histogram's _bucket/_sum/_count. */
function resolveMetric(
  name: string,
  metrics: Map<string, MetricDef>,
): { base: string; def: MetricDef; bucket: boolean } | undefined {
  const def = metrics.get(name)
  if (def) return def.type === 'Histogram' ? undefined : { base: name, def, bucket: false }
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const base = name.slice(0, -suffix.length)
    const histogram = name.endsWith(suffix) ? metrics.get(base) : undefined
    if (histogram?.type === 'Histogram') return { base, def: histogram, bucket: suffix === '_bucket' }
  }
  return undefined
}

interface ExprReferences {
  /** Identifiers that are neither functions nor keywords: the series the expression reads. */
  metrics: string[]
  functions: string[]
  /** Every `name{…}` selector with its label matchers. */
  selectors: Array<{ metric: string; matchers: Array<{ label: string; op: string; value: string }> }>
  groupingLabels: string[]
}

function references(expr: string): ExprReferences {
  const selectors: ExprReferences['selectors'] = []
  for (const m of expr.matchAll(/([A-Za-z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    const matchers = [...(m[2] ?? '').matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({
      label: x[1] as string,
      op: x[2] as string,
      value: x[3] as string,
    }))
    selectors.push({ metric: m[1] as string, matchers })
  }
  const groupingLabels = [
    ...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g),
  ].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((label) => label.trim())
      .filter(Boolean),
  )
  const bare = expr
    .replace(/#.*$/gm, '')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\d+[smhdwy][\dsmhdwy]*/g, ' ')
    .replace(/(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])/gi, ' ')
  const metrics: string[] = []
  const functions: string[] = []
  for (const m of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const name = m[0]
    if (PROMQL_KEYWORDS.has(name)) continue
    if (/^\s*\(/.test(bare.slice((m.index ?? 0) + name.length))) functions.push(name)
    else metrics.push(name)
  }
  return { metrics, functions, selectors, groupingLabels }
}

function durationSec(value: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(value)
  if (!m) return Number.NaN
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h']
}

/** Problems of one expression against the exported metrics: unknown names, labels and outcome values. */
function exprProblems(expr: string, metrics: Map<string, MetricDef>, outcomes: string[]): string[] {
  const problems: string[] = []
  const refs = references(expr)
  const known = new Set<string>()
  for (const name of refs.metrics) {
    const resolved = resolveMetric(name, metrics)
    if (!resolved) {
      problems.push(
        metrics.get(name)?.type === 'Histogram'
          ? `${name} is a histogram: query ${name}_bucket, _sum or _count`
          : `${name} is not a metric of runtime/server/metrics.ts`,
      )
      continue
    }
    for (const label of resolved.def.labels) known.add(label)
    if (resolved.bucket) known.add('le')
  }
  for (const fn of refs.functions) if (!PROMQL_FUNCTIONS.has(fn)) problems.push(`unknown function ${fn}()`)
  for (const selector of refs.selectors) {
    const resolved = resolveMetric(selector.metric, metrics)
    if (!resolved) continue
    const allowed = [...resolved.def.labels, ...TARGET_LABELS, ...(resolved.bucket ? ['le'] : [])]
    for (const { label, op, value } of selector.matchers) {
      if (!allowed.includes(label)) problems.push(`${selector.metric} has no label ${label}`)
      if (label === 'outcome') {
        const values = op === '=~' || op === '!~' ? value.split('|') : [value]
        for (const v of values) if (!outcomes.includes(v)) problems.push(`outcome "${v}" is never set by the runtime`)
      }
    }
  }
  for (const label of refs.groupingLabels) {
    if (!known.has(label) && !TARGET_LABELS.includes(label))
      problems.push(`no metric of this expression has label ${label}`)
  }
  return problems
}

// --- the runbook's anchors

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2… for repeats. */
function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let fence: string | undefined
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1]
    if (marker) {
      fence = fence === undefined ? marker : fence === marker ? undefined : fence
      continue
    }
    if (fence) continue
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1] as string)
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1]
    if (!heading) continue
    const base = heading
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

// --- the checks

const RULES_FILE = 'ops/alerts.yml'
const RUNBOOK_FILE = 'docs/runbook.md'
const rules = loadRules(read(RULES_FILE))
const metricsSource = read('runtime/server/metrics.ts')
const metrics = await exportedMetrics()
const outcomes = receiveOutcomes(metricsSource)
const runbook = read(RUNBOOK_FILE)
const anchors = markdownAnchors(runbook)
const SEVERITIES = ['critical', 'warning', 'info']

describe('the helpers of this test', () => {
  it('read the block YAML subset: nested maps and lists, quoted scalars, block scalars, comments', () => {
    const doc = YamlSubsetReader.parse(
      [
        '# a comment',
        'groups:',
        '  - name: g # trailing comment',
        '    rules:',
        '      - alert: A',
        '        expr: |',
        '          sum(x)',
        '',
        '            > 1',
        '        labels:',
        '          severity: "crit # not a comment"',
        "        quoted: 'it''s'",
        '        folded: >-',
        '          one',
        '          two',
        '      - plain',
      ].join('\n'),
    )
    expect(doc).toEqual({
      groups: [
        {
          name: 'g',
          rules: [
            {
              alert: 'A',
              expr: 'sum(x)\n\n  > 1\n',
              labels: { severity: 'crit # not a comment' },
              quoted: "it's",
              folded: 'one two',
            },
            'plain',
          ],
        },
      ],
    })
    expect(() => YamlSubsetReader.parse('a: [1, 2]')).toThrow(/unsupported/)
    expect(() => YamlSubsetReader.parse('a: 1\na: 2')).toThrow(/duplicate key/)
    expect(() => YamlSubsetReader.parse('a:\n\t b: 1')).toThrow(/tab/)
  })

  it('find every metric of metrics.ts, with its type and labels, and the outcomes the ingress sets', () => {
    expect(metrics.size).toBeGreaterThanOrEqual(12)
    expect(metrics.get('mapper_webhooks_received_total')).toEqual({
      type: 'Counter',
      labels: ['flow', 'outcome', 'status', 'version'],
    })
    expect(metrics.get('mapper_ack_latency_seconds')).toEqual({ type: 'Histogram', labels: ['flow'] })
    expect(metrics.get('mapper_dead_letters')).toEqual({ type: 'Gauge', labels: [] })
    expect(outcomes).toContain('invalid_signature')
    expect(outcomes).toContain('backpressure')
  })

  it('catch unknown metrics, bare histograms, unknown labels and outcome values', () => {
    expect(exprProblems('rate(mapper_nonexistent_total[5m]) > 0', metrics, outcomes)).toEqual([
      'mapper_nonexistent_total is not a metric of runtime/server/metrics.ts',
    ])
    expect(exprProblems('up == 0', metrics, outcomes)).toEqual(['up is not a metric of runtime/server/metrics.ts'])
    expect(exprProblems('mapper_ack_latency_seconds > 1', metrics, outcomes)[0]).toMatch(/is a histogram/)
    expect(
      exprProblems(
        'sum by (node) (rate(mapper_webhooks_received_total{outcome="invalid_sig"}[5m]))',
        metrics,
        outcomes,
      ),
    ).toEqual(['outcome "invalid_sig" is never set by the runtime', 'no metric of this expression has label node'])
    expect(
      exprProblems(
        'histogram_quantile(0.99, sum by (job, flow, le) (rate(mapper_ack_latency_seconds_bucket{flow!="unknown"}[5m] offset 1h))) > 2e-2',
        metrics,
        outcomes,
      ),
    ).toEqual([])
  })

  it('compute GitHub heading anchors, ignoring fenced code', () => {
    const found = markdownAnchors(
      '# Top\n## Signature failures (401)\n```sh\n# not a heading\n```\n## Top\n### MapperQueueLag\n',
    )
    expect([...found]).toEqual(['top', 'signature-failures-401', 'top-1', 'mapperqueuelag'])
  })
})

describe(`the alert rules in ${RULES_FILE}`, () => {
  it('has rules, each with a unique alert name', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8)
    const names = rules.map((rule) => rule.alert)
    expect(names.every((name) => /^[A-Z][A-Za-z0-9]+$/.test(name))).toBe(true)
    expect(new Set(names).size).toBe(names.length)
  })

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s: queries only metrics, labels and outcomes the runtime exports',
    (_name, rule) => {
      expect(rule.expr.trim()).not.toBe('')
      expect(references(rule.expr).metrics.length).toBeGreaterThan(0)
      expect(exprProblems(rule.expr, metrics, outcomes)).toEqual([])
    },
  )

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s: has a for:, a severity, a summary, a description and a runbook link',
    (_name, rule) => {
      expect(durationSec(rule.for), `for: ${rule.for}`).toBeGreaterThanOrEqual(60)
      expect(SEVERITIES).toContain(rule.labels.severity)
      expect(rule.annotations.summary?.trim()).toBeTruthy()
      expect(rule.annotations.description?.trim().length ?? 0).toBeGreaterThan(80)
      expect(rule.annotations.description).toMatch(/first check/i)
      expect(rule.annotations.runbook_url).toBe(`${RUNBOOK_FILE}#${rule.alert.toLowerCase()}`)
    },
  )

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s: its runbook anchor is a heading of the runbook',
    (_name, rule) => {
      const anchor = (rule.annotations.runbook_url ?? '').split('#')[1] ?? ''
      expect(anchors.has(anchor), `#${anchor} in ${RUNBOOK_FILE}`).toBe(true)
    },
  )

  const required: Array<[string, (rule: Rule) => boolean]> = [
    [
      '5xx rate jump: the 5xx share over 5 m against the hour before',
      (rule) =>
        /rate\(mapper_webhooks_received_total\{[^}]*status=~"5\.\."[^}]*\}\[5m\]\)/.test(rule.expr) &&
        /rate\(mapper_webhooks_received_total\{[^}]*status=~"5\.\."[^}]*\}\[1h\]\s+offset\s+5m\)/.test(rule.expr) &&
        /rate\(mapper_webhooks_received_total\[5m\]\)/.test(rule.expr) &&
        /clamp_min\(/.test(rule.expr),
    ],
    [
      'schema-reject rise: the reject share over 5 m against the hour before',
      (rule) =>
        /rate\(mapper_schema_rejects_total\[5m\]\)/.test(rule.expr) &&
        /rate\(mapper_schema_rejects_total\[1h\]\s+offset\s+5m\)/.test(rule.expr) &&
        /rate\(mapper_webhooks_received_total\[5m\]\)/.test(rule.expr),
    ],
    [
      'retry queue persistently high',
      (rule) => /mapper_queue_retrying\)?\s*>\s*\d+/.test(rule.expr) && durationSec(rule.for) >= 15 * 60,
    ],
    ['dead letters growing', (rule) => /(?:delta|increase)\(mapper_dead_letters\[\d+m\]\)\)?\s*>\s*0/.test(rule.expr)],
    ['signature failures spike', (rule) => /outcome="invalid_signature"/.test(rule.expr)],
    [
      'ack latency p99 over 20 ms',
      (rule) =>
        /histogram_quantile\(\s*0\.99,[\s\S]*mapper_ack_latency_seconds_bucket[\s\S]*\)\s*>\s*0\.02\b/.test(rule.expr),
    ],
    [
      'queue lag over 60 s for 5 m',
      (rule) => /mapper_queue_oldest_due_seconds\)?\s*>\s*60\b/.test(rule.expr) && durationSec(rule.for) === 5 * 60,
    ],
    ['backpressure 503s', (rule) => /outcome="backpressure"/.test(rule.expr)],
  ]

  it.each(required)('has the required alert: %s', (_what, matches) => {
    expect(rules.filter(matches).map((rule) => rule.alert)).not.toEqual([])
  })
})

describe(`the runbook ${RUNBOOK_FILE}`, () => {
  it('has a section for every alert, named after it', () => {
    const missing = rules.filter((rule) => !anchors.has(rule.alert.toLowerCase())).map((rule) => rule.alert)
    expect(missing).toEqual([])
  })

  it('has the scenario runbooks', () => {
    for (const anchor of [
      'traffic-spikes',
      'downstream-outages',
      'signing-key-rotation',
      'signature-failures-401',
      'schema-reject-rise',
      'crash-recovery',
    ]) {
      expect(anchors.has(anchor), `#${anchor}`).toBe(true)
    }
  })

  it('links only to anchors it has', () => {
    const broken = [...runbook.matchAll(/\]\(#([^)]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((anchor) => !anchors.has(anchor))
    expect(broken).toEqual([])
  })

  it('uses the real names: flags, secret suffix, routes, metrics', () => {
    for (const name of [
      '--queue-high-water',
      '--lease-ms',
      '--no-workers',
      '_PREVIOUS',
      'secretFingerprint',
      'secretsTried',
      'clockOffsetSec',
      'rejection.diagnosis',
      'GET /api/dead-letters',
      'POST /api/dead-letters/replay',
      'PUT /api/secrets/:name',
      'trigger.rateLimit',
      'retry.delaysMs',
      'Authorization: Bearer $MAPPER_TOKEN',
    ]) {
      expect(runbook, name).toContain(name)
    }
    const mentioned = new Set([...runbook.matchAll(/\bmapper_[a-z0-9_]+/g)].map((m) => m[0]))
    const unknown = [...mentioned].filter((name) => !resolveMetric(name, metrics) && !metrics.has(name))
    // The default process metrics (mapper_process_*, mapper_nodejs_*) come from prom-client.
    expect(unknown.filter((name) => !/^mapper_(process|nodejs)_/.test(name))).toEqual([])
  })
})
