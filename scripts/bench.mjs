#!/usr/bin/env node
// `npm run bench [-- --quick | --only CASE | --help]`: see scripts/bench/run.mjs.
import { main } from './bench/run.mjs';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
