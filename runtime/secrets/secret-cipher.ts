/** @module Secret values at rest: AES-256-GCM with a key from MAPPER_SECRET_KEY or the data directory's key file. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const SECRET_KEY_ENV = 'MAPPER_SECRET_KEY'
const KEY_FILE = 'secret.key'

export interface SecretCipher {
  encrypt(plain: string): string
  decrypt(ciphertext: string): string
}

/** The key: MAPPER_SECRET_KEY (32 bytes, base64), else `<data>/secret.key`, made on first start (mode 600). */
export function loadSecretKey(env: NodeJS.ProcessEnv, dataDir: string | undefined): Buffer {
  const fromEnv = env[SECRET_KEY_ENV]
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64')
    if (key.length !== 32) throw new Error(`${SECRET_KEY_ENV} must be 32 bytes in base64 (openssl rand -base64 32)`)
    return key
  }
  if (!dataDir) throw new Error(`set ${SECRET_KEY_ENV} (32 bytes, base64) to keep secrets in this store`)
  const file = join(dataDir, KEY_FILE)
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 })
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
}

export function createSecretCipher(key: Buffer): SecretCipher {
  return {
    encrypt(plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`
    },
    decrypt(ciphertext) {
      const raw = Buffer.from(ciphertext.replace(/^v1:/, ''), 'base64')
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
      decipher.setAuthTag(raw.subarray(12, 28))
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    },
  }
}
