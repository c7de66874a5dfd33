/** @module `mapper serve --tls-cert --tls-key`: HTTPS webhooks with TLS 1.2 and 1.3 only, on a certificate made at test time. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ConnectionOptions, connect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../runtime/store/open-store.ts'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { REPO_ROOT, SCHEMAS_DIR } from '../support/paths.ts'
import { freePort } from '../support/serve-process.ts'

interface Answer {
  status: number
  body: string
  protocol: string | null
  headers: Record<string, string | string[] | undefined>
}

/** A self-signed certificate for 127.0.0.1, made with openssl into `dir`. */
function makeCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.cert.pem`)
  const key = join(dir, `${name}.key.pem`)
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  )
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`)
  return { cert, key }
}

function httpsCall(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; tls: ConnectionOptions },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false, ...options.tls },
      (res) => {
        const protocol = 'getProtocol' in res.socket ? (res.socket.getProtocol as () => string | null)() : null
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            protocol,
            headers: res.headers,
          }),
        )
      },
    )
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Opens a TLS connection and closes it: the negotiated protocol and certificate, or the handshake error. */
function handshake(
  port: number,
  options: ConnectionOptions,
): Promise<{ protocol: string | null; fingerprint: string } | { error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      resolve({ protocol: socket.getProtocol(), fingerprint: socket.getPeerCertificate().fingerprint256 })
      socket.end()
    })
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')))
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error }))
  })
}

describe('mapper serve over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-tls-'))
  const dataDir = join(dir, 'data')
  let child: ChildProcess | undefined
  let exited: Promise<number | null> | undefined
  let port = 0
  let url = ''
  let first: { cert: string; key: string }
  let ca: Buffer[]
  let logFile = ''
  /** The deliveries answered 202, checked in the store once the process has stopped. */
  const stored: Array<{ eventId: string; body: string }> = []

  beforeAll(async () => {
    first = makeCertificate(dir, 'first')
    ca = [readFileSync(first.cert)]
    mkdirSync(dataDir, { recursive: true })
    port = await freePort()
    url = `https://127.0.0.1:${port}`
    logFile = join(dataDir, 'serve.log')
    const log = createWriteStream(logFile)
    child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin/mapper.js'),
        'serve',
        '--flows',
        writeConduitFlow(dir),
        '--schemas',
        SCHEMAS_DIR,
        '--data',
        dataDir,
        '--port',
        String(port),
        '--tls-cert',
        first.cert,
        '--tls-key',
        first.key,
        '--no-workers',
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...CONDUIT_ENV, MAPPER_DRAIN_DELAY_MS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    const running = child
    exited = new Promise((resolve) => running.once('exit', (code) => resolve(code)))
    const deadline = Date.now() + 45_000
    for (;;) {
      if (running.exitCode !== null) throw new Error(`mapper serve exited with ${running.exitCode}: see ${logFile}`)
      const ready = await httpsCall(`${url}/readyz`, { tls: { ca } }).catch(() => undefined)
      if (ready?.status === 200) break
      if (Date.now() > deadline) throw new Error('mapper serve over TLS was not ready in time')
      await new Promise((r) => setTimeout(r, 100))
    }
  }, 60_000)

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints an https URL', () => {
    expect(readFileSync(logFile, 'utf8')).toContain(`Mapper Studio is running: ${url}/`)
  })

  it('accepts a signed webhook over HTTPS, on TLS 1.3 by default, and stores its raw body', async () => {
    const delivery = conduitDelivery('over-https')
    const answer = await httpsCall(`${url}${CONDUIT_HOOK_PATH}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      tls: { ca },
    })
    expect(answer.status, answer.body).toBe(202)
    expect(answer.protocol).toBe('TLSv1.3')
    const { eventId } = JSON.parse(answer.body) as { eventId: string }
    expect(eventId).toBeTruthy()
    stored.push({ eventId, body: delivery.body })
  })

  it('accepts a TLS 1.2 client', async () => {
    const delivery = conduitDelivery('over-tls12')
    const answer = await httpsCall(`${url}${CONDUIT_HOOK_PATH}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      tls: { ca, maxVersion: 'TLSv1.2' },
    })
    expect(answer.status, answer.body).toBe(202)
    expect(answer.protocol).toBe('TLSv1.2')
    stored.push({ eventId: (JSON.parse(answer.body) as { eventId: string }).eventId, body: delivery.body })
  })

  it('refuses a TLS 1.1 client: the server answers the handshake with a protocol_version alert', async () => {
    // SECLEVEL=0 lets this client's OpenSSL offer TLS 1.1 at all, so that the refusal is the server's.
    const legacy: ConnectionOptions = { ca, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }
    const refused = await handshake(port, { ...legacy, maxVersion: 'TLSv1.1' })
    expect('error' in refused && refused.error.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')
    // The same client allowed TLS 1.2 gets in: it was the version that was refused, not the client.
    const allowed = await handshake(port, { ...legacy, maxVersion: 'TLSv1.2' })
    expect('protocol' in allowed && allowed.protocol).toBe('TLSv1.2')
  })

  it('gives plain HTTP on the TLS port no 2xx', async () => {
    const delivery = conduitDelivery('plain-http')
    const answer = await fetch(`http://127.0.0.1:${port}${CONDUIT_HOOK_PATH}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(15_000),
    }).then(
      (response) => response.status,
      (error: Error) => error.name,
    )
    expect(answer === 'TypeError' || (typeof answer === 'number' && (answer < 200 || answer > 299))).toBe(true)
  })

  it('takes a renewed certificate on SIGHUP, without a restart', async () => {
    const before = await handshake(port, { ca })
    const renewed = makeCertificate(dir, 'renewed')
    // The renewal lands where the runtime reads its files, as certbot or cert-manager would put it.
    copyFileSync(renewed.cert, first.cert)
    copyFileSync(renewed.key, first.key)
    child?.kill('SIGHUP')
    const trustBoth = { ca: [...ca, readFileSync(renewed.cert)] }
    const deadline = Date.now() + 15_000
    let after = await handshake(port, trustBoth)
    while ('fingerprint' in after && 'fingerprint' in before && after.fingerprint === before.fingerprint) {
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 100))
      after = await handshake(port, trustBoth)
    }
    expect('fingerprint' in before).toBe(true)
    expect('fingerprint' in after && 'fingerprint' in before && after.fingerprint !== before.fingerprint).toBe(true)
    expect(child?.exitCode).toBe(null)
  })

  it('stops on SIGTERM with exit 0, the HTTPS deliveries in its store', async () => {
    child?.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stored).toHaveLength(2)
    const store = await openStore(undefined, dataDir)
    try {
      for (const { eventId, body } of stored) expect((await store.getEvent(eventId))?.rawBody).toBe(body)
    } finally {
      await store.close()
    }
  }, 30_000)
})
