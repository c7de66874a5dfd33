/** @module Every fuzz variant of a run: each family's generator over the samples, numbered, from one seed. */
import { DEFAULT_MAX_BODY_BYTES } from '../model/types.ts'
import { badUnicode } from './families/bad-unicode.ts'
import { contentType } from './families/content-type.ts'
import { deepNesting } from './families/deep-nesting.ts'
import { emptyBody } from './families/empty-body.ts'
import { extraField } from './families/extra-field.ts'
import { missingField } from './families/missing-field.ts'
import { oversized } from './families/oversized.ts'
import { truncatedJson } from './families/truncated-json.ts'
import { typeShift } from './families/type-shift.ts'
import { withFreshIds } from './fresh-ids.ts'
import { seededRandom } from './seeded-random.ts'
import { type DraftVariant, type FamilyInput, FUZZ_FAMILIES, type FuzzFamily, type FuzzVariant } from './variant.ts'

/** Variants per family unless asked otherwise. */
export const DEFAULT_VARIANTS_PER_FAMILY = 60

const GENERATORS: Record<FuzzFamily, (input: FamilyInput) => DraftVariant[]> = {
  'missing-field': missingField,
  'type-shift': typeShift,
  'extra-field': extraField,
  oversized,
  'deep-nesting': deepNesting,
  'bad-unicode': badUnicode,
  'truncated-json': truncatedJson,
  'content-type': contentType,
  'empty-body': emptyBody,
}

export interface GenerateOptions {
  /** Valid payloads to start from (at least one). */
  samples: readonly unknown[]
  /** Most variants per family. */
  count?: number
  seed?: string | number
  /** Seeds the fresh ids apart from the variants (default: the seed), so a re-run can send new events. */
  idSeed?: string | number
  maxBodyBytes?: number
  /** Only these families (default: all). */
  families?: readonly FuzzFamily[]
}

/** The same options give the same variants, byte for byte; another `idSeed` changes only the ids. */
export function generateVariants(options: GenerateOptions): FuzzVariant[] {
  if (options.samples.length === 0) throw new Error('fuzzing needs at least one valid sample payload')
  const seed = options.seed ?? 1
  const variants: FuzzVariant[] = []
  for (const family of options.families ?? FUZZ_FAMILIES) {
    const ids = seededRandom(`${options.idSeed ?? seed}:${family}:ids`)
    const drafts = GENERATORS[family]({
      samples: options.samples.length,
      base: (n) => withFreshIds(options.samples[n % options.samples.length], ids),
      count: options.count ?? DEFAULT_VARIANTS_PER_FAMILY,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      random: seededRandom(`${seed}:${family}`),
    })
    for (const draft of drafts) variants.push({ index: variants.length, ...draft })
  }
  return variants
}
