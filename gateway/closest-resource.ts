import { closestWord } from '../core/domain/closest.js';

const SCHEME = 'resource://';
/** Shorter names are too common inside others ("api") to suggest anything by containment. */
const MIN_CONTAINED = 3;

/**
 * The resource a caller most likely meant when it named one that does not exist, for the
 * "did you mean" of a `resource_unknown` refusal: a near spelling (closestWord), else a name that
 * contains or is contained in the one sent (`billing` → `billing-api`), the token's own resource
 * first, else the only such resource. Undefined when nothing is close or the choice is ambiguous.
 */
export function closestResource(named: string, resourceIds: readonly string[], issuedFor: string): string | undefined {
  const slug = slugOf(named);
  const slugs = resourceIds.map(slugOf);
  const typo = closestWord(slug, slugs);
  if (typo !== undefined) return SCHEME + typo;
  const related = (candidate: string) => Math.min(candidate.length, slug.length) >= MIN_CONTAINED && (candidate.includes(slug) || slug.includes(candidate));
  const issued = slugOf(issuedFor);
  if (slugs.includes(issued) && related(issued)) return SCHEME + issued;
  const found = slugs.filter(related);
  return found.length === 1 ? SCHEME + (found[0] as string) : undefined;
}

function slugOf(resourceId: string): string {
  return resourceId.startsWith(SCHEME) ? resourceId.slice(SCHEME.length) : resourceId;
}
