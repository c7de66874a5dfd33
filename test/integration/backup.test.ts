/** @module `mapper backup` while `mapper serve` takes a burst, then `mapper restore`: nothing acknowledged before the backup is missing. */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../runtime/store/open-store.ts'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { REPO_ROOT } from '../support/paths.ts'
import { type ServeProcess, startServeProcess } from '../support/serve-process.ts'

/** At least this many events; the burst goes on until the backup has finished, so the backup is mid-burst. */
const EVENTS = 1_000
/** A safety stop should the backup never finish. */
const MOST_EVENTS = 30_000
const CONCURRENCY = 16
/** The backup starts once this many events were acknowledged. */
const BACKUP_AFTER = 300
const ADMIN_TOKEN = 'backup-test-admin'

interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

function runMapper(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, MAPPER_SECRET_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('an online backup during a burst of signed events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-backup-'))
  let server: ServeProcess | undefined
  afterAll(async () => {
    await server?.kill('SIGKILL').catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  it('restores to a store that holds every event acknowledged before the backup began, raw body and all', async () => {
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    server = await startServeProcess({
      flowsDir: writeConduitFlow(dir),
      dataDir,
      env: { ...CONDUIT_ENV, MAPPER_DRAIN_DELAY_MS: '0' },
      args: ['--no-workers'],
    })
    const { url } = server
    const backupFile = join(dir, 'mapper-backup.db')

    const acknowledged = new Map<string, string>() // eventId → raw body
    let before: Map<string, string> | undefined
    let backup: Promise<CliRun> | undefined
    /** How many had been sent when the backup finished: the burst goes on a while after that. */
    let sentWhenBackupDone: number | undefined
    let refused = 0
    let next = 0
    const sendOne = async (i: number) => {
      const delivery = conduitDelivery(`backup-${i}`)
      try {
        const response = await fetch(`${url}${CONDUIT_HOOK_PATH}`, {
          method: 'POST',
          body: delivery.body,
          headers: delivery.headers,
        })
        const answer = (await response.json()) as { eventId?: string }
        if (response.status === 202 && answer.eventId) acknowledged.set(answer.eventId, delivery.body)
        else refused++
      } catch {
        refused++
      }
      if (!backup && acknowledged.size >= BACKUP_AFTER) {
        // What was acknowledged up to now is what the backup must hold: it starts after this line.
        before = new Map(acknowledged)
        backup = runMapper(['backup', '--data', dataDir, '--out', backupFile, '--json']).finally(() => {
          sentWhenBackupDone = next
        })
      }
    }
    const lanes = Array.from({ length: CONCURRENCY }, async () => {
      const goOn = () =>
        next < EVENTS || sentWhenBackupDone === undefined || next < sentWhenBackupDone + CONCURRENCY * 4
      while (goOn() && next < MOST_EVENTS) await sendOne(next++)
    })
    await Promise.all(lanes)
    const backedUp = await backup
    expect(backedUp?.code, backedUp?.stderr).toBe(0)
    const report = JSON.parse(backedUp?.stdout ?? '{}') as { events: number; integrity: string; bytes: number }
    expect(await server.stop()).toBe(0)
    server = undefined

    const restoredDir = join(dir, 'restored')
    const restored = await runMapper(['restore', backupFile, '--data', restoredDir])
    expect(restored.code, restored.stderr).toBe(0)
    expect(readdirSync(restoredDir)).toEqual(['mapper.db'])

    const store = await openStore(undefined, restoredDir)
    const missing: string[] = []
    const wrongBody: string[] = []
    try {
      for (const [eventId, body] of before ?? []) {
        const event = await store.getEvent(eventId)
        if (!event) missing.push(eventId)
        else if (event.rawBody !== body) wrongBody.push(eventId)
      }
    } finally {
      await store.close()
    }
    console.log(
      `backup test: ${next} sent, ${acknowledged.size} acknowledged (${before?.size} before the backup began), ` +
        `${refused} not acknowledged; the backup holds ${report.events} events (${report.bytes} bytes)`,
    )
    expect(before?.size).toBeGreaterThanOrEqual(BACKUP_AFTER)
    expect(missing).toEqual([])
    expect(wrongBody).toEqual([])
    expect(report.integrity).toBe('ok')
    expect(report.events).toBeGreaterThanOrEqual(before?.size ?? Number.POSITIVE_INFINITY)
    // The burst went on after the backup finished: the snapshot is a point inside it, not its end.
    expect(report.events).toBeLessThan(acknowledged.size)
  }, 240_000)

  it('refuses to restore over a store that a running runtime has open, and over any store without --force', async () => {
    const dataDir = join(dir, 'live')
    mkdirSync(dataDir)
    server = await startServeProcess({
      flowsDir: writeConduitFlow(dir),
      dataDir,
      env: { ...CONDUIT_ENV, MAPPER_DRAIN_DELAY_MS: '0', MAPPER_ADMIN_TOKEN: ADMIN_TOKEN },
      args: ['--no-workers'],
    })
    // A secret set through the API is stored encrypted with the data directory's secret.key.
    const put = await fetch(`${server.url}/api/secrets/CRM_API_KEY`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'crm-key-in-the-store' }),
    })
    expect(put.status).toBe(200)
    const backupFile = join(dir, 'live-backup.db')
    const backedUp = await runMapper(['backup', '--data', dataDir, '--out', backupFile])
    expect(backedUp.code, backedUp.stderr).toBe(0)
    expect(backedUp.stdout).toMatch(/secret\.key/)

    const whileRunning = await runMapper(['restore', backupFile, '--data', dataDir, '--force'])
    expect(whileRunning.code).toBe(1)
    expect(whileRunning.stderr).toContain('is open in another process')
    expect(await server.stop()).toBe(0)
    server = undefined

    const withoutForce = await runMapper(['restore', backupFile, '--data', dataDir])
    expect(withoutForce.code).toBe(1)
    expect(withoutForce.stderr).toContain('already holds a store')

    const forced = await runMapper(['restore', backupFile, '--data', dataDir, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(readdirSync(dataDir).some((name) => name.startsWith('mapper.db.replaced-'))).toBe(true)
    expect(existsSync(join(dataDir, 'mapper.db'))).toBe(true)

    // Into a fresh directory the key is not there yet: restore says so, and says it again once it is right.
    const fresh = join(dir, 'fresh')
    const keyless = await runMapper(['restore', backupFile, '--data', fresh])
    expect(keyless.code, keyless.stderr).toBe(0)
    expect(keyless.stderr).toMatch(/warning: the backup holds 1 secret value, and .*secret\.key does not exist/)
    const wrongKey = await runMapper(['restore', backupFile, '--data', join(dir, 'wrong-key'), '--force'], {
      MAPPER_SECRET_KEY: randomBytes(32).toString('base64'),
    })
    expect(wrongKey.stderr).toContain('does not decrypt it')
    copyFileSync(join(dataDir, 'secret.key'), join(fresh, 'secret.key'))
    const keyed = await runMapper(['restore', backupFile, '--data', fresh, '--force'])
    expect(keyed.code, keyed.stderr).toBe(0)
    expect(keyed.stdout, keyed.stderr).toContain('secret.key decrypts it')

    writeFileSync(join(dir, 'not-a-store.db'), 'hello')
    const notAStore = await runMapper(['restore', join(dir, 'not-a-store.db'), '--data', join(dir, 'elsewhere')])
    expect(notAStore.code).toBe(1)
    expect(notAStore.stderr).toMatch(/not an SQLite database|not a Mapper store/)
  }, 120_000)

  it('prints the PostgreSQL way for a postgres:// store and exits 2', async () => {
    const run = await runMapper(['backup', '--store', 'postgres://mapper@db.internal/mapper', '--out', 'x.dump'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('pg_dump')
  })
})
