/**
 * The directories a set of repository names makes (`eo/products` -> `eo/` -> `products/`). Pure.
 *
 * Where a repository is also the parent of others (`eo` and `eo/products`), its directory holds
 * both its tags and the child components; a child component wins over a tag of the same name
 * (the tag stays reachable through `@sha256:`), so the shape above the tag level follows from
 * the catalog alone and never needs a tag listing.
 */
import { isSafeComponent } from './names.js';

export class RepositoryNames {
  private readonly repositories = new Set<string>();
  /** prefix ('' for the top) -> next components, in first-seen order. */
  private readonly children = new Map<string, Set<string>>([['', new Set()]]);

  /**
   * `names` are full repository names; with `namespace`, only those under it are kept, relative
   * to it. Names that could not be paths (empty or unsafe components) are dropped.
   */
  constructor(names: Iterable<string>, namespace?: string) {
    const prefix = namespace ? namespace.replace(/\/+$/, '') + '/' : '';
    for (const full of names) {
      if (typeof full !== 'string' || !full.startsWith(prefix)) continue;
      const name = full.slice(prefix.length);
      const components = name.split('/');
      if (name === '' || !components.every((c) => isSafeComponent(c) && !c.startsWith('@'))) continue;
      this.repositories.add(name);
      let parent = '';
      for (const c of components) {
        let set = this.children.get(parent);
        if (!set) this.children.set(parent, (set = new Set()));
        set.add(c);
        parent = parent === '' ? c : `${parent}/${c}`;
      }
    }
  }

  isRepository(path: string): boolean {
    return this.repositories.has(path);
  }

  /** True for '' (the top), a repository, or a path that has repositories below it. */
  isDirectory(path: string): boolean {
    return path === '' || this.repositories.has(path) || this.children.has(path);
  }

  /** Next components of repositories below `path`. */
  childrenOf(path: string): string[] {
    return [...(this.children.get(path) ?? [])];
  }

  hasChild(path: string, component: string): boolean {
    return this.children.get(path)?.has(component) ?? false;
  }

  get size(): number {
    return this.repositories.size;
  }
}

/** `a`, `b` -> `a/b`; the top is ''. */
export function joinRepositoryPath(parent: string, component: string): string {
  return parent === '' ? component : `${parent}/${component}`;
}
