/** @module Bearer tokens: random, stored only as SHA-256 hashes, each with a name and a role. */
import { createHash, randomBytes } from 'node:crypto'
import type { Request } from 'express'
import type { Role, Store, TokenRecord } from '../../store/store.ts'
import type { ApiDeps } from './deps.ts'
import { ApiError, type Caller } from './route.ts'

export const TOKEN_PREFIX = 'mst_'

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function newToken(): { token: string; id: string } {
  return {
    token: `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`,
    id: `tok_${randomBytes(8).toString('hex')}`,
  }
}

export async function issueToken(
  store: Store,
  role: Role,
  name: string,
  createdBy: string | null,
): Promise<{ token: string; record: TokenRecord }> {
  const { token, id } = newToken()
  const record = await store.createToken({ id, name, role, hash: hashToken(token), createdBy })
  return { token, record }
}

/** Who the request's bearer token belongs to; 401 without a valid one. */
export async function authenticate(req: Request, deps: ApiDeps): Promise<Caller> {
  const header = req.headers.authorization ?? ''
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? (req.query.access_token as string | undefined)
  if (!token) throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <token>')
  const record = await deps.store.findToken(hashToken(token))
  if (!record) throw new ApiError(401, 'unauthorized', 'this token is not valid (unknown or revoked)')
  return { tokenId: record.id, name: record.name, role: record.role }
}

/**
 * The first admin token: MAPPER_ADMIN_TOKEN when set (for scripts and CI), else one made on the first start
 * of an empty store and returned once so it can be printed. Later starts create nothing.
 */
export async function bootstrapAdminToken(store: Store, fromEnv: string | undefined): Promise<string | undefined> {
  if (fromEnv) {
    if (!(await store.findToken(hashToken(fromEnv)))) {
      try {
        await store.createToken({
          id: `tok_${randomBytes(8).toString('hex')}`,
          name: 'admin (MAPPER_ADMIN_TOKEN)',
          role: 'admin',
          hash: hashToken(fromEnv),
          createdBy: 'bootstrap',
        })
      } catch (error) {
        // Another process on the same database stored it meanwhile (they started together): nothing to do.
        if (await store.findToken(hashToken(fromEnv))) return undefined
        // Its hash is already stored, but not live: someone revoked it on purpose.
        throw new Error('MAPPER_ADMIN_TOKEN was revoked in this store; set a new value', { cause: error })
      }
    }
    return undefined
  }
  if ((await store.listTokens()).length > 0) return undefined
  const { token } = await issueToken(store, 'admin', 'first admin', 'bootstrap')
  return token
}
