/**
 * Token scopes (`repository:eo/products:pull,push`, `registry:catalog:*`): building, merging and
 * a stable key for caching tokens per scope set. Pure.
 */

export type RepositoryAction = 'pull' | 'push' | 'delete' | '*';

export function repositoryScope(repository: string, actions: RepositoryAction[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export const CATALOG_SCOPE = 'registry:catalog:*';

/**
 * Merges scopes that name the same resource (`repository:a:pull` + `repository:a:push` ->
 * `repository:a:pull,push`), drops duplicates and sorts, so equal sets compare equal.
 * A scope that does not parse is kept verbatim.
 */
export function normalizeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  const verbatim = new Set<string>();
  for (const raw of scopes) {
    for (const scope of raw.split(' ')) {
      if (!scope) continue;
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last === first) {
        verbatim.add(scope);
        continue;
      }
      const resource = scope.slice(0, last);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const a of scope.slice(last + 1).split(',')) if (a) actions.add(a);
      byResource.set(resource, actions);
    }
  }
  const out = [...verbatim];
  for (const [resource, actions] of byResource) {
    if (actions.size === 0) continue;
    const list = actions.has('*') ? ['*'] : [...actions].sort();
    out.push(`${resource}:${list.join(',')}`);
  }
  return out.sort();
}

/** A stable cache key for a set of scopes. */
export function scopeKey(scopes: Iterable<string>): string {
  return normalizeScopes(scopes).join(' ');
}
