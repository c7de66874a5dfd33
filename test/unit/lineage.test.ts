import { describe, expect, it } from 'vitest'
import { composeLineage, deriveLineage, type Lineage } from '../../runtime/engine/lineage.ts'

const CONDUIT_CRM = `{
  "externalId": data.reportId,
  "jobId": data.jobId,
  "status": $uppercase(data.status),
  "summary": type & " for job " & data.jobId,
  "failed": type = "report.failed",
  "error": data.error ? { "code": data.error.code, "message": data.error.message } : null,
  "receivedVia": $headers.\`user-agent\`,
  "eventId": $event.id,
  "source": "conduit"
}`

describe('deriveLineage', () => {
  it('maps the conduit CRM mapping field by field', () => {
    expect(deriveLineage(CONDUIT_CRM)).toEqual({
      externalId: ['data.reportId'],
      jobId: ['data.jobId'],
      status: ['data.status'],
      summary: ['data.jobId', 'type'],
      failed: ['type'],
      'error.code': ['data.error', 'data.error.code'],
      'error.message': ['data.error', 'data.error.message'],
      receivedVia: ['$headers.`user-agent`'],
      eventId: ['$event.id'],
      source: [],
    })
  })

  it('flattens nested object constructors to dotted output paths', () => {
    expect(deriveLineage('{ "a": data.x, "b": { "c": data.y, "d": { "e": $string(data.z) } } }')).toEqual({
      a: ['data.x'],
      'b.c': ['data.y'],
      'b.d.e': ['data.z'],
    })
  })

  it('gives a top-level expression that is not an object constructor the output path $', () => {
    expect(deriveLineage('data.x & "-" & id')).toEqual({ $: ['data.x', 'id'] })
    expect(deriveLineage('$')).toEqual({ $: ['$'] })
    expect(deriveLineage('"constant"')).toEqual({ $: [] })
  })

  it('unions, sorts and de-duplicates the reads of operators and function calls', () => {
    const expr = `{
      "total": $sum(items.price) * (1 + tax.rate),
      "names": $join(items.name, ", "),
      "big": $count(items) > 10 and flag,
      "twice": a.b & a.b,
      "range": $substring(?, 0, limits.len)(title),
      "chained": data.name ~> $trim() ~> $lowercase(),
      "implicit": data.name.$uppercase()
    }`
    expect(deriveLineage(expr)).toEqual({
      total: ['items.price', 'tax.rate'],
      names: ['items.name'],
      big: ['flag', 'items'],
      twice: ['a.b'],
      range: ['limits.len', 'title'],
      chained: ['data.name'],
      implicit: ['data.name'],
    })
  })

  it('unions condition, then and else of a conditional leaf', () => {
    expect(deriveLineage('{ "label": kind = "a" ? title : $uppercase(name), "flag": ok ? "y" }')).toEqual({
      label: ['kind', 'name', 'title'],
      flag: ['ok'],
    })
  })

  it('merges a conditional that picks whole objects field by field, adding the condition to every field', () => {
    expect(deriveLineage('type = "a" ? {"x": a, "y": 1} : {"x": b}')).toEqual({
      x: ['a', 'b', 'type'],
      y: ['type'],
    })
    // Not objects on both sides: one leaf for the whole value.
    expect(deriveLineage('{"v": type = "a" ? {"x": a} : b}')).toEqual({ v: ['a', 'b', 'type'] })
  })

  it('does not mark plain paths or a plain path with an object constructor as arrays', () => {
    expect(deriveLineage('{ "lines": items.{ "sku": sku, "qty": quantity }, "prices": data.items.price }')).toEqual({
      'lines.sku': ['items.sku'],
      'lines.qty': ['items.quantity'],
      prices: ['data.items.price'],
    })
  })

  it('resolves relative paths in a path\u2019s object constructor against the prefix', () => {
    expect(deriveLineage('{ "x": data.{ "id": reportId, "at": %.sentAt, "root": $$.type, "self": $ } }')).toEqual({
      'x.id': ['data.reportId'],
      'x.at': ['sentAt'],
      'x.root': ['type'],
      'x.self': ['data'],
    })
  })

  it('iterates a step followed by a constructor when the path is marked [] or sits in an array constructor', () => {
    const expected: Lineage = { 'lines[].sku': ['order.items[].sku'], 'lines[].qty': ['order.items[].quantity'] }
    expect(deriveLineage('{ "lines": order.items[].{ "sku": sku, "qty": quantity } }')).toEqual(expected)
    expect(deriveLineage('{ "lines": [order.items.{ "sku": sku, "qty": quantity }] }')).toEqual(expected)
    // An array of plain values is a leaf.
    expect(deriveLineage('{ "tags": [a, b.c], "pairs": items[].[sku, qty] }')).toEqual({
      tags: ['a', 'b.c'],
      pairs: ['items[].qty', 'items[].sku'],
    })
    // Array constructor items that are objects merge field by field.
    expect(deriveLineage('{ "xs": [{ "a": p }, { "a": q, "b": r }] }')).toEqual({
      'xs[].a': ['p', 'q'],
      'xs[].b': ['r'],
    })
  })

  it('binds $map lambda parameters to the iterated item', () => {
    expect(
      deriveLineage(
        '{ "lines": $map(items, function($v, $i) { { "sku": $v.sku, "line": $i + 1, "cur": currency } }) }',
      ),
    ).toEqual({
      'lines[].sku': ['items[].sku'],
      'lines[].line': [],
      'lines[].cur': ['currency'],
    })
    expect(deriveLineage('$map(data.items, function($v) { { "sku": $v.sku } })')).toEqual({
      '$[].sku': ['data.items[].sku'],
    })
    expect(
      deriveLineage('{ "skus": $map(items, function($v) { $uppercase($v.sku) }), "s": $map(ids, $string) }'),
    ).toEqual({ skus: ['items[].sku'], s: ['ids[]'] })
  })

  it('tracks variables bound in blocks, including bound objects and functions', () => {
    expect(deriveLineage('( $x := data.a; { "out": $x & "!" } )')).toEqual({ out: ['data.a'] })
    const expr = `(
      $o := { "k": a, "n": { "m": b } };
      $fmt := function($v) { { "id": $v.id, "label": $v.name & " " & $o.k } };
      $unused := c;
      { "k": $o.k, "m": $o.n.m, "all": $o, "one": $fmt(data.first) }
    )`
    expect(deriveLineage(expr)).toEqual({
      k: ['a'],
      m: ['b'],
      'all.k': ['a'],
      'all.n.m': ['b'],
      'one.id': ['data.first.id'],
      'one.label': ['a', 'data.first.name'],
    })
  })

  it('reads headers and event variables; other free variables read nothing', () => {
    const expr = `{
      "ua": $headers.\`user-agent\`,
      "id": $headers.'x-id',
      "viaLookup": $lookup($headers, "x-id"),
      "plain": $headers.host,
      "event": $event.id,
      "at": $now(),
      "unknown": $somethingElse
    }`
    expect(deriveLineage(expr)).toEqual({
      ua: ['$headers.`user-agent`'],
      id: ['$headers.`x-id`'],
      viaLookup: ['$headers.`x-id`'],
      plain: ['$headers.host'],
      event: ['$event.id'],
      at: [],
      unknown: [],
    })
  })

  it('records constants as computed from no input', () => {
    expect(deriveLineage('{ "source": "conduit", "at": $now(), "n": 3, "on": true, "none": null }')).toEqual({
      source: [],
      at: [],
      n: [],
      on: [],
      none: [],
    })
  })

  it('reads predicate and sort paths relative to their step', () => {
    const expr = `{
      "aTotal": $sum(items[type = "a"].price),
      "first": items[0].sku,
      "cheapest": (items^(price))[0].sku,
      "picked": $filter(items, function($v) { $v.qty > 0 }).sku
    }`
    expect(deriveLineage(expr)).toEqual({
      aTotal: ['items.price', 'items.type'],
      first: ['items.sku'],
      cheapest: ['items.price', 'items.sku'],
      picked: ['items.sku', 'items[].qty'],
    })
  })

  it('backticks field names that are not identifiers, on both sides', () => {
    expect(deriveLineage('{ "x-id": data.`request-id`, "a b": { "c.d": meta.`first name` } }')).toEqual({
      '`x-id`': ['data.`request-id`'],
      '`a b`.`c.d`': ['meta.`first name`'],
    })
  })

  it('writes a computed key as *', () => {
    expect(deriveLineage('{ "fixed": a, $string(kind): value }')).toEqual({ fixed: ['a'], '*': ['kind', 'value'] })
  })

  it('terminates on recursive functions', () => {
    expect(deriveLineage('( $f := function($n) { $n <= 1 ? 1 : $n * $f($n - 1) }; { "f": $f(data.n) } )')).toEqual({
      f: ['data.n'],
    })
  })

  it('throws the jsonata parse error on bad syntax', () => {
    let error: unknown
    try {
      deriveLineage('{ "a": }')
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'S0211', token: '}' })
  })
})

describe('composeLineage', () => {
  const crm = deriveLineage(CONDUIT_CRM)

  it('rewrites downstream inputs through the upstream outputs', () => {
    const downstream = deriveLineage(`{
      "ref": externalId,
      "code": error.code,
      "err": error,
      "headline": summary & " (" & source & ")",
      "ua": $headers.\`user-agent\`,
      "other": notProduced.x
    }`)
    expect(composeLineage(downstream, crm)).toEqual({
      ref: ['data.reportId'],
      code: ['data.error', 'data.error.code'],
      err: ['data.error', 'data.error.code', 'data.error.message'],
      headline: ['data.jobId', 'type'],
      ua: ['$headers.`user-agent`'],
      other: ['notProduced.x'],
    })
  })

  it('maps paths below an upstream output to that output\u2019s inputs', () => {
    const upstream: Lineage = { customer: ['data.client'], 'meta.ts': ['sentAt'] }
    const downstream: Lineage = { name: ['customer.name'], both: ['customer.id', 'meta.ts', 'extra'] }
    expect(composeLineage(downstream, upstream)).toEqual({
      name: ['data.client'],
      both: ['data.client', 'extra', 'sentAt'],
    })
  })

  it('matches array paths regardless of []', () => {
    const upstream = deriveLineage('{ "lines": $map(items, function($v) { { "sku": $v.sku, "q": $v.qty } }) }')
    expect(upstream).toEqual({ 'lines[].sku': ['items[].sku'], 'lines[].q': ['items[].qty'] })
    expect(composeLineage(deriveLineage('{ "skus": lines.sku, "n": $count(lines) }'), upstream)).toEqual({
      skus: ['items[].sku'],
      n: ['items[].qty', 'items[].sku'],
    })
    expect(composeLineage(deriveLineage('$map(lines, function($l) { { "s": $l.sku } })'), upstream)).toEqual({
      '$[].s': ['items[].sku'],
    })
  })

  it('sends everything through an upstream whole-output leaf', () => {
    const upstream = deriveLineage('$merge([$, { "total": a + b }])')
    expect(upstream).toEqual({ $: ['$', 'a', 'b'] })
    expect(composeLineage({ x: ['total'], h: ['$headers.host'], c: [] }, { $: ['data.x', 'y'] })).toEqual({
      x: ['data.x', 'y'],
      h: ['$headers.host'],
      c: [],
    })
  })

  it('passes everything through an empty upstream and keeps constants empty', () => {
    const downstream: Lineage = { a: ['data.x'], b: [] }
    expect(composeLineage(downstream, {})).toEqual(downstream)
    expect(composeLineage({ s: ['source'] }, crm)).toEqual({ s: [] })
  })
})
