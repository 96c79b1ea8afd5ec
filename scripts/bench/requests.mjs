/**
 * What a request to a registry (or to nginx) was, and a summary of a list of them. Pure; the
 * counting proxy (./proxy.mjs) records the entries.
 *
 * An entry: { method, path, status, range, bytesIn (request body), bytesOut (response body) }.
 */

/** The distribution-spec endpoint a path names: ping, catalog, tags, manifest, upload, blob, other. */
export function requestKind(path) {
  const p = path.split('?')[0];
  if (p === '/v2/' || p === '/v2') return 'ping';
  if (p === '/v2/_catalog') return 'catalog';
  if (!p.startsWith('/v2/')) return 'other';
  if (/\/tags\/list$/.test(p)) return 'tags';
  if (/\/manifests\/[^/]+$/.test(p)) return 'manifest';
  if (/\/blobs\/uploads(\/[^/]*)?$/.test(p)) return 'upload';
  if (/\/blobs\/[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(p)) return 'blob';
  return 'other';
}

/** Length of a closed `bytes=A-B` range, or undefined. */
export function rangeLength(range) {
  const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
  return m ? Number(m[2]) - Number(m[1]) + 1 : undefined;
}

/**
 * Totals over `entries`: requests and bytes both ways, per kind and method
 * (`byKind.blob.GET`), the shorthands the targets use (manifest GETs, blob GETs) and the
 * sizes of blob responses (how many bytes one request carried).
 */
export function summarizeRequests(entries) {
  const s = {
    requests: 0,
    bytesOut: 0,
    bytesIn: 0,
    uploadBytes: 0,
    byKind: {},
    manifestGets: 0,
    manifestHeads: 0,
    blobGets: 0,
    blobBytes: 0,
    blobResponseSizes: [],
  };
  for (const e of entries) {
    const kind = requestKind(e.path);
    s.requests++;
    s.bytesOut += e.bytesOut;
    s.bytesIn += e.bytesIn;
    const k = (s.byKind[kind] ??= {});
    k[e.method] = (k[e.method] ?? 0) + 1;
    if (kind === 'upload') s.uploadBytes += e.bytesIn;
    if (kind === 'manifest' && e.method === 'GET') s.manifestGets++;
    if (kind === 'manifest' && e.method === 'HEAD') s.manifestHeads++;
    if (kind === 'blob' && e.method === 'GET') {
      s.blobGets++;
      s.blobBytes += e.bytesOut;
      s.blobResponseSizes.push(e.bytesOut);
    }
  }
  return s;
}
