/**
 * The one piece of I/O of mirror configuration: reading the hosts file named by
 * `--mirror-config` or OCIFS_MIRRORS. Parsing stays in ./config.ts.
 */
import { readFileSync } from 'node:fs';
import { localIOError } from '../errors.js';
import { mergeMirrorConfigs, mirrorConfigFromFlags, parseMirrorConfig, type MirrorConfig } from './config.js';

export function loadMirrorConfigFile(path: string): MirrorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw localIOError(err, `cannot read the mirror configuration ${path}`);
  }
  return parseMirrorConfig(text, path);
}

/** `--mirror` values first (in order), then the file's entries, if a file is named. */
export function resolveMirrorConfig(flags: readonly string[], file: string | undefined): MirrorConfig {
  const fromFlags = mirrorConfigFromFlags(flags);
  return file ? mergeMirrorConfigs(fromFlags, loadMirrorConfigFile(file)) : fromFlags;
}
