import { describe, expect, test } from 'vitest';
import { RepositoryNames } from '../../src/fs/repository-names.js';

describe('RepositoryNames', () => {
  const names = new RepositoryNames(['eo', 'eo/products', 'eo/archive/2020', 'other', 'bad//name', '../up', 'x/@sha256']);

  test.each<[string, boolean, boolean, string[]]>([
    // path, is a repository, is a directory, children
    ['', false, true, ['eo', 'other']],
    ['eo', true, true, ['products', 'archive']],
    ['eo/products', true, true, []],
    ['eo/archive', false, true, ['2020']],
    ['eo/archive/2020', true, true, []],
    ['other', true, true, []],
    ['missing', false, false, []],
    ['bad', false, false, []],
    ['x', false, false, []],
  ])('%j: repository %s, directory %s, children %j', (path, isRepository, isDirectory, children) => {
    expect(names.isRepository(path)).toBe(isRepository);
    expect(names.isDirectory(path)).toBe(isDirectory);
    expect(names.childrenOf(path)).toEqual(children);
  });

  test('unsafe names are dropped', () => {
    expect(names.size).toBe(4);
  });

  test.each<[string, string[], string[]]>([
    ['eo', ['eo', 'eo/products', 'eo/archive/2020', 'other', 'eonly'], ['products', 'archive']],
    ['eo/', ['eo/products'], ['products']],
    ['eo/archive', ['eo/archive/2020', 'eo/products'], ['2020']],
  ])('namespace %j keeps the names under it, relative', (namespace, all, top) => {
    expect(new RepositoryNames(all, namespace).childrenOf('')).toEqual(top);
  });
});
