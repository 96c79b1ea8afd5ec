/**
 * Makes a TypeScript entry file runnable by a plain `node` child process (tests that SIGKILL a
 * process need a real one): transpiles it and every module it imports relatively into a temp
 * directory that mirrors the repository, with node_modules linked in.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Returns { dir, entry }: the temp directory (caller removes it) and the compiled entry's path. */
export function compileForChild(entryFromRoot: string): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ocifs-child-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const pending = [resolve(ROOT, entryFromRoot)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const output = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    }).outputText;
    const out = join(dir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, output);
    // Follow the relative imports that survived transpiling (type-only ones are gone).
    for (const m of output.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      pending.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    }
  }
  return { dir, entry: join(dir, entryFromRoot.replace(/\.ts$/, '.js')) };
}
