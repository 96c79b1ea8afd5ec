/**
 * The flags of `npm run bench` -> options, and `--only` -> the case groups to run. Pure.
 */

export const USAGE = `Usage: npm run bench -- [options]

  --quick            smaller data (64 MiB blob, 2048 px COG, 200 files) and 1 run: a smoke run
  --runs N           runs per case (default 3, --quick: 1)
  --only CASE[,...]  run only these cases or groups (repeatable); a case runs with its group
  --list             list the groups and cases, then exit
  --profile          also run one cold 1 GiB read with the daemon under node --cpu-prof
  --no-install       never apt-get install missing tools (missing peers are reported as n/a)
  --no-snapshot      run dist/ in place instead of a snapshot taken at start
  --keep-tmp         keep the temporary directory (mounts are still unmounted)
  --render FILE      print the markdown report of a results JSON file, then exit
  -h, --help         this text

Results: a markdown table on stdout, JSON and markdown in .bench/results-<date>.{json,md}.
Generated data is kept in .bench/data/<version>-<full|quick> and reused.`;

/** Group id -> the case ids it produces. A group measures its cases in one pass. */
export const GROUPS = {
  seq: ['seq-cold', 'seq-warm', 'seq-hot', 'rss'],
  gdal: ['gdal-window-cold', 'gdal-window-second', 'gdalinfo-cold'],
  files: ['ls-lR-cold', 'cp-r-cold', 'pull-small'],
  push: ['push-big', 'push-small', 'repush'],
  pack: ['pack-big'],
};

export function parseArgs(argv) {
  const opts = {
    quick: false,
    runs: undefined,
    only: [],
    list: false,
    profile: false,
    install: true,
    snapshot: true,
    keepTmp: false,
    render: undefined,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--quick':
        opts.quick = true;
        break;
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`--runs takes a positive integer`);
        opts.runs = n;
        break;
      }
      case '--only':
        opts.only.push(...value().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--list':
        opts.list = true;
        break;
      case '--profile':
        opts.profile = true;
        break;
      case '--no-install':
        opts.install = false;
        break;
      case '--no-snapshot':
        opts.snapshot = false;
        break;
      case '--keep-tmp':
        opts.keepTmp = true;
        break;
      case '--render':
        opts.render = value();
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  opts.runs ??= opts.quick ? 1 : 3;
  return opts;
}

/** `--only` names (groups or cases) -> group ids in their canonical order; all when empty. */
export function selectGroups(only, groups = GROUPS) {
  const ids = Object.keys(groups);
  if (only.length === 0) return ids;
  const wanted = new Set();
  for (const name of only) {
    const group = ids.find((id) => id === name || groups[id].includes(name));
    if (!group) throw new Error(`unknown case ${JSON.stringify(name)} (see --list)`);
    wanted.add(group);
  }
  return ids.filter((id) => wanted.has(id));
}
