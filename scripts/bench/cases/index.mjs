/**
 * scripts/bench/cases — the case groups, one module per group. A group measures its cases in one
 * pass (subject and peers back to back in every run) and returns result lines (../results.mjs)
 * plus counters in ctx.evidence. Groups use the bench's context (registry, proxies, mounts, data)
 * and never start anything without registering its stop with ctx.cleanup.
 */
import { filesGroup } from './files.mjs';
import { gdalGroup } from './gdal.mjs';
import { seqGroup } from './seq.mjs';
import { packGroup, pushGroup } from './write.mjs';

/** Group id (see ../args.mjs GROUPS) -> its runner. */
export const GROUP_RUNNERS = { seq: seqGroup, gdal: gdalGroup, files: filesGroup, push: pushGroup, pack: packGroup };
