/** @module The bootstrap admin token: MAPPER_ADMIN_TOKEN, or one made on first start, printed once, kept as a hash. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const HASH_FILE = 'admin-token.sha256'

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export async function bootstrapAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ check(token: string): boolean; created?: string }> {
  if (fromEnv) {
    const expected = hashToken(fromEnv)
    return { check: (token) => timingSafeEqual(hashToken(token), expected) }
  }
  const file = join(dataDir, HASH_FILE)
  let created: string | undefined
  if (!existsSync(file)) {
    created = `mst_${randomBytes(24).toString('base64url')}`
    writeFileSync(file, hashToken(created).toString('hex'), { mode: 0o600 })
  }
  const expected = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex')
  return { check: (token) => timingSafeEqual(hashToken(token), expected), ...(created ? { created } : {}) }
}
