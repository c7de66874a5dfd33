/** @module What one fuzz variant is: a family, a description, the exact bytes to send and the field it aims at. */
import type { SeededRandom } from './seeded-random.ts'

export const FUZZ_FAMILIES = [
  'missing-field',
  'type-shift',
  'extra-field',
  'oversized',
  'deep-nesting',
  'bad-unicode',
  'truncated-json',
  'content-type',
  'empty-body',
] as const
export type FuzzFamily = (typeof FUZZ_FAMILIES)[number]

export interface FuzzVariant {
  /** Position in the run, from 0: with the seed it names the variant again. */
  index: number
  family: FuzzFamily
  /** What was done, for a person: `drop required /data/jobId`. */
  description: string
  /** The body exactly as sent (it may be invalid UTF-8 on purpose). */
  body: Uint8Array
  /** The content-type header; `null` sends none. */
  contentType: string | null
  /** The JSON Pointer of the field the variant changes, when it changes one. */
  target?: string
}

/** What a family generator is given: valid payloads to start from, a random source and its limits. */
export interface FamilyInput {
  /** How many valid samples there are. */
  samples: number
  /** Sample `n` (modulo the count) with fresh ids: every call gives a distinct event, so dedupe hides none. */
  base(n: number): unknown
  /** Most variants to make. */
  count: number
  /** The flow's body limit (trigger.maxBodyBytes). */
  maxBodyBytes: number
  random: SeededRandom
}

/** A variant to make, made only if chosen (large bodies are not built for nothing). */
export type Candidate = () => DraftVariant

/** Up to `count` of the candidates, spread over the list by the random source, in their order; then built. */
export function choose(candidates: readonly Candidate[], count: number, random: SeededRandom): DraftVariant[] {
  if (candidates.length <= count) return candidates.map((make) => make())
  const picked = new Set<number>()
  while (picked.size < count) picked.add(random.int(candidates.length))
  return [...picked].sort((a, b) => a - b).map((i) => (candidates[i] as Candidate)())
}

/** A variant before it is numbered. */
export type DraftVariant = Omit<FuzzVariant, 'index'>

export const JSON_CONTENT_TYPE = 'application/json'
