/**
 * The tools the bench needs and the Debian packages they come from. Missing ones are installed
 * with apt-get (as root, unless --no-install); a peer that still cannot run is reported in the
 * table as n/a with the reason, never silently left out. ocifs's own needs are required.
 */
import { spawnSync } from 'node:child_process';

/** command -> { pkg, required, version: argv that prints it }. */
export const TOOLS = {
  'docker-registry': { pkg: 'docker-registry', required: true, version: ['--version'] },
  fusermount: { pkg: 'fuse', required: true, version: ['-V'] },
  getfattr: { pkg: 'attr', required: true, version: ['--version'] },
  gdal_translate: { pkg: 'gdal-bin', required: true, version: ['--version'] },
  gdalinfo: { pkg: 'gdal-bin', required: true, version: ['--version'] },
  curl: { pkg: 'curl', required: false, version: ['--version'] },
  skopeo: { pkg: 'skopeo', required: false, version: ['--version'] },
  nginx: { pkg: 'nginx-light', required: false, version: ['-v'] },
  rclone: { pkg: 'rclone', required: false, version: ['version'] },
};

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

/** Packages for the missing commands, deduplicated (pure). */
export function packagesFor(missing, tools = TOOLS) {
  return [...new Set(missing.map((cmd) => tools[cmd].pkg))];
}

/**
 * Installs what is missing (when allowed) and returns { cmd: { ok, version } | { ok: false, reason } }.
 * Throws when a required tool is still missing.
 */
export function ensureTools({ install, log }) {
  let missing = Object.keys(TOOLS).filter((cmd) => !which(cmd));
  if (missing.length && install) {
    const pkgs = packagesFor(missing);
    if (process.getuid?.() !== 0) {
      log(`tools: missing ${missing.join(', ')}; not root, so not installing ${pkgs.join(' ')}`);
    } else {
      log(`tools: apt-get install --no-install-recommends ${pkgs.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
      if (r.status !== 0) log(`tools: apt-get install failed (exit ${r.status})`);
    }
    missing = Object.keys(TOOLS).filter((cmd) => !which(cmd));
  }
  const out = {};
  for (const [cmd, tool] of Object.entries(TOOLS)) {
    out[cmd] = missing.includes(cmd)
      ? { ok: false, reason: `${cmd} not installed (apt-get install ${tool.pkg})` }
      : { ok: true, version: versionOf(cmd, tool.version) };
  }
  const fatal = missing.filter((cmd) => TOOLS[cmd].required);
  if (fatal.length) throw new Error(`required tools missing: ${fatal.map((c) => `${c} (${TOOLS[c].pkg})`).join(', ')}`);
  return out;
}
