/**
 * @module The SQLite side of `mapper restore`: checks the backup, refuses a store in use, keeps a replaced
 * store beside, puts the copy in place atomically and checks the secret key the runtime will use.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createSecretCipher, SECRET_KEY_ENV } from '../secrets/secret-cipher.ts'
import { DATABASE_FILE } from '../store/sqlite/connection.ts'
import { count, SECRET_KEY_FILE, syncFile } from './sqlite-backup.ts'
import { inspectStoreFile, type StoreFileReport, storeInUse } from './store-file-check.ts'

/** The SQLite files of one store: the database and, in WAL mode, its log and shared-memory index. */
const STORE_FILE_SUFFIXES = ['', '-wal', '-shm']

export interface RestoreReport extends StoreFileReport {
  file: string
  restoredTo: string
  /** Where the store it replaced was moved, when there was one. */
  previousKeptAs?: string
  /** Whether the key `mapper serve` will use decrypts the backup's secret values (absent when it holds none). */
  secretKey?: { ok: boolean; note: string }
}

export function restoreSqliteStore(file: string, dir: string, force: boolean): RestoreReport {
  if (!existsSync(file)) throw new Error(`${file} does not exist`)
  const backup = inspectStoreFile(file)
  if (backup.integrity !== 'ok') throw new Error(`${file} fails its integrity check: ${backup.integrity}`)
  if (backup.schemaVersion < 1) throw new Error(`${file} is not a Mapper store (no migrations applied)`)
  if (backup.schemaVersion > backup.newestKnownVersion) {
    throw new Error(
      `${file} was written by a newer runtime (schema version ${backup.schemaVersion}, this one knows ` +
        `${backup.newestKnownVersion}): restore it with that version`,
    )
  }
  mkdirSync(dir, { recursive: true })
  const target = join(dir, DATABASE_FILE)
  let previousKeptAs: string | undefined
  if (existsSync(target)) {
    if (storeInUse(target)) {
      throw new Error(
        `${target} is open in another process (is mapper serve running with --data ${dir}?): stop it first`,
      )
    }
    if (!force) {
      const { events } = inspectStoreFile(target)
      throw new Error(`${dir} already holds a store (${events} events): give --force to replace it (it is kept beside)`)
    }
    previousKeptAs = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`
  }
  // A -wal left without its database would be replayed into the restored one: move it with the old store.
  const aside = previousKeptAs ?? `${target}.stray-${Date.now()}`
  for (const suffix of STORE_FILE_SUFFIXES) {
    if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${aside}${suffix}`)
  }

  const partial = `${target}.restoring-${process.pid}`
  try {
    copyFileSync(file, partial)
    syncFile(partial)
    renameSync(partial, target)
    syncFile(dir)
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  }
  const secretKey = checkSecretKey(backup, dir)
  return {
    ...backup,
    file,
    restoredTo: target,
    ...(previousKeptAs === undefined ? {} : { previousKeptAs }),
    ...(secretKey === undefined ? {} : { secretKey }),
  }
}

/** Serve refuses to start on secret values its key cannot decrypt: say so now, while the fix is a copy. */
function checkSecretKey(backup: StoreFileReport, dir: string): RestoreReport['secretKey'] {
  if (backup.sampleCiphertext === undefined) return undefined
  const keyFile = join(dir, SECRET_KEY_FILE)
  const fromEnv = process.env[SECRET_KEY_ENV]
  const source = fromEnv ? SECRET_KEY_ENV : keyFile
  const held = `the backup holds ${count(backup.secrets, 'secret value')}`
  const them = backup.secrets === 1 ? 'it' : 'them'
  if (!fromEnv && !existsSync(keyFile)) {
    return {
      ok: false,
      note:
        `${held}, and ${keyFile} does not exist: copy secret.key from the original data directory to ` +
        `${keyFile} (or set ${SECRET_KEY_ENV}) before mapper serve, which would otherwise make a new key`,
    }
  }
  try {
    const key = Buffer.from(fromEnv || readFileSync(keyFile, 'utf8').trim(), 'base64')
    createSecretCipher(key).decrypt(backup.sampleCiphertext)
    return { ok: true, note: `${held}; ${source} decrypts ${them}` }
  } catch {
    return {
      ok: false,
      note:
        `${held}, and ${source} does not decrypt ${them}: put the original store's secret.key in ${keyFile} ` +
        `(or set ${SECRET_KEY_ENV} to its value) before mapper serve`,
    }
  }
}

export function describeRestore(report: RestoreReport, dir: string): string {
  return [
    `restore: ${report.restoredTo} now holds ${report.file}: ${count(report.events, 'event')}, ` +
      `${count(report.flowVersions, 'flow version')}, ${count(report.secrets, 'secret')}; ` +
      `schema version ${report.schemaVersion}; integrity ${report.integrity}`,
    ...(report.previousKeptAs ? [`  the store it replaced is kept as ${report.previousKeptAs}`] : []),
    ...(report.secretKey?.ok ? [`  secret key: ${report.secretKey.note}`] : []),
    ...(report.schemaVersion < report.newestKnownVersion
      ? [`  mapper serve migrates it from schema version ${report.schemaVersion} to ${report.newestKnownVersion}`]
      : []),
    `  start it: mapper serve --data ${dir}`,
  ].join('\n')
}
