/**
 * @module Node-RED as the peer: installed once into <os tmp>/mapper-bench-node-red (kept between runs),
 * with a flow equivalent to the conduit guard — http in (raw body) → function (HMAC check, JSON.parse)
 * → http response 202 — and, for the processing bench, the same mapping sent to the mock by an
 * http request node.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Child, startChild, waitForHttp } from './children.ts'
import { CONDUIT_PATH, CONDUIT_SECRET_ENV } from './events.ts'

export const NODE_RED_PREFIX = join(tmpdir(), 'mapper-bench-node-red')
const RED_JS = join(NODE_RED_PREFIX, 'node_modules', 'node-red', 'red.js')

/** The path of red.js, installing node-red@4 first when needed; or why it is not available. */
export function installNodeRed(): { redJs: string } | { error: string } {
  if (existsSync(RED_JS)) return { redJs: RED_JS }
  console.log(`installing node-red@4 into ${NODE_RED_PREFIX} (once; kept for later runs)…`)
  const npm = spawnSync(
    'npm',
    ['install', '--prefix', NODE_RED_PREFIX, 'node-red@4', '--no-audit', '--no-fund', '--loglevel=error'],
    { encoding: 'utf8', timeout: 300_000 },
  )
  if (npm.status !== 0 || !existsSync(RED_JS)) {
    return {
      error: `npm install node-red@4 failed (${npm.status ?? npm.signal}): ${(npm.stderr ?? '').trim().slice(-500)}`,
    }
  }
  return { redJs: RED_JS }
}

/** The guard as a function node: outputs [answer, downstream call (processing bench only)]. */
const GUARD_FUNCTION = `
const crypto = global.get('crypto');
const secret = global.get('conduitSecret');
const raw = Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : String(msg.payload);
const header = String(msg.req.headers['conduit-signature'] || '');
let t;
const v1 = [];
for (const item of header.split(',')) {
  const eq = item.indexOf('=');
  const key = item.slice(0, eq).trim();
  if (key === 't') t = item.slice(eq + 1).trim();
  else if (key === 'v1') v1.push(item.slice(eq + 1).trim());
}
function answer(status, payload) {
  msg.statusCode = status;
  msg.payload = payload;
  return [msg, null];
}
if (!t || Math.abs(Date.now() / 1000 - Number(t)) > 300) return answer(401, { error: { code: 'invalid_signature' } });
const expected = crypto.createHmac('sha256', secret).update(t + '.' + raw).digest();
const ok = v1.some((hex) => {
  const claimed = Buffer.from(hex, 'hex');
  return claimed.length === expected.length && crypto.timingSafeEqual(claimed, expected);
});
if (!ok) return answer(401, { error: { code: 'invalid_signature' } });
let event;
try { event = JSON.parse(raw); } catch (e) { return answer(400, { error: { code: 'malformed_json' } }); }
const downstream = global.get('downstream');
let call = null;
if (downstream) {
  const d = event.data || {};
  const headers = { 'content-type': 'application/json', 'x-api-key': 'bench', 'idempotency-key': event.id };
  if (event.type === 'report.completed') {
    call = { method: 'PUT', url: downstream + '/reports/' + d.reportId, headers,
      payload: { externalId: d.reportId, jobId: d.jobId, status: String(d.status).toUpperCase(), completedAt: event.createdAt, source: 'conduit', eventId: event.id } };
  } else if (event.type === 'report.failed') {
    call = { method: 'POST', url: downstream + '/jobs/' + d.jobId + '/failures', headers,
      payload: { jobId: d.jobId, status: 'FAILED', errorCode: d.error && d.error.code, errorMessage: d.error && d.error.message, failedAt: event.createdAt, eventId: event.id } };
  } else if (String(event.type).split('.')[0] === 'matching') {
    call = { method: 'PATCH', url: downstream + '/jobs/' + d.jobId, headers,
      payload: { jobId: d.jobId, matchingId: d.matchingId, status: String(d.status).toUpperCase(), errorCode: d.error && d.error.code, eventType: event.type } };
  }
}
msg.statusCode = 202;
msg.payload = { eventId: event.id };
return [msg, call];
`

function flows(): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'mapper bench' },
    {
      id: 'hook-in',
      type: 'http in',
      z: 'bench-tab',
      url: CONDUIT_PATH,
      method: 'post',
      upload: false,
      skipBodyParsing: true,
      swaggerDoc: '',
      wires: [['guard']],
    },
    {
      id: 'guard',
      type: 'function',
      z: 'bench-tab',
      name: 'verify + parse',
      func: GUARD_FUNCTION,
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['hook-out'], ['crm']],
    },
    { id: 'hook-out', type: 'http response', z: 'bench-tab', statusCode: '', headers: {}, wires: [] },
    {
      id: 'crm',
      type: 'http request',
      z: 'bench-tab',
      method: 'use',
      ret: 'txt',
      paytoqs: 'ignore',
      url: '',
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [[]],
    },
    {
      id: 'ready-in',
      type: 'http in',
      z: 'bench-tab',
      url: '/readyz',
      method: 'get',
      upload: false,
      wires: [['ready-out']],
    },
    { id: 'ready-out', type: 'http response', z: 'bench-tab', statusCode: '200', headers: {}, wires: [] },
  ]
}

function settings(): string {
  return `module.exports = {
  flowFile: 'flows.json',
  credentialSecret: false,
  uiHost: '127.0.0.1',
  httpAdminRoot: false,
  httpNodeRoot: '/',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  externalModules: { autoInstall: false },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  functionGlobalContext: {
    crypto: require('crypto'),
    conduitSecret: process.env.${CONDUIT_SECRET_ENV},
    downstream: process.env.BENCH_DOWNSTREAM_URL || '',
  },
}
`
}

/** Starts Node-RED on `port` and waits until its flow answers. `downstream`: the mock's base URL (processing bench). */
export async function startNodeRed(
  redJs: string,
  port: number,
  options: { secret: string; downstream?: string; workDir: string },
): Promise<Child> {
  const userDir = mkdtempSync(join(options.workDir, 'node-red-'))
  writeFileSync(join(userDir, 'settings.js'), settings())
  writeFileSync(join(userDir, 'flows.json'), `${JSON.stringify(flows(), null, 2)}\n`)
  const child = startChild('node-red', process.execPath, [redJs, '-u', userDir, '-p', String(port)], {
    env: { [CONDUIT_SECRET_ENV]: options.secret, BENCH_DOWNSTREAM_URL: options.downstream ?? '' },
    logFile: join(options.workDir, 'node-red.log'),
  })
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, child, 60_000)
  return child
}
