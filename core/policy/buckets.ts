import { isResourceId, normalizeResourceId } from '../domain/ids.js';
import type { Bucket, CompiledPolicySet } from './compile.js';

/** The resource as the index keys it: `resource://slug` (bare slugs normalised; junk kept as is). */
export function queryResource(resource: string): string {
  return resource.startsWith('resource://') || !isResourceId(resource) ? resource : normalizeResourceId(resource);
}

/** The buckets that hold every rule for (app, resource): one merged bucket, or up to four. */
export function bucketsFor(set: CompiledPolicySet, app: string, resource: string): Bucket[] {
  const exact = set.exact.get(app)?.get(resource);
  if (exact?.complete) return [exact];
  return [exact, set.byResource.get(resource), set.byApp.get(app), set.any ?? undefined].filter((b): b is Bucket => b !== undefined);
}
