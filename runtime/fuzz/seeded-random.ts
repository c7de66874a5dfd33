/** @module A small seeded random source, so that one seed always gives the same fuzz variants. */

export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  pick<T>(items: readonly T[]): T
  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string
  /** A random (version 4 shaped) UUID. */
  uuid(): string
}

/** FNV-1a over the seed's text: any string or number seeds the generator. */
function hashSeed(seed: string | number): number {
  let hash = 0x811c9dc5
  for (const char of String(seed)) {
    hash ^= char.codePointAt(0) ?? 0
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** mulberry32: fast, 32 bits of state, good enough to spread variants (not for secrets). */
export function seededRandom(seed: string | number): SeededRandom {
  let state = hashSeed(seed)
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (n: number) => Math.floor(next() * n)
  const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('')
  return {
    next,
    int,
    pick: <T>(items: readonly T[]) => items[int(items.length)] as T,
    hex,
    uuid() {
      const h = hex(16)
      const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16)
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
    },
  }
}
