/** @module The impact preview's types, from the runtime's route, and its limits. */
export type { FieldChange, ImpactEvent, ImpactPreview } from '../../runtime/server/api/impact.ts'

/** The route's own default and limit (DEFAULT_IMPACT_EVENTS, MAX_IMPACT_EVENTS): the module itself is not browser-safe. */
export const DEFAULT_EVENTS = 20
export const MAX_EVENTS = 500
