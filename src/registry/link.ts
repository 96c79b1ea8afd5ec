/**
 * Pagination helpers for tags and catalog: the `Link: <url>; rel="next"` header (RFC 8288). Pure.
 */

/** The absolute URL of the `rel="next"` link, resolved against the URL of the page that sent it. */
export function nextPageUrl(link: string | string[] | undefined, pageUrl: string): string | undefined {
  if (link === undefined) return undefined;
  const values = Array.isArray(link) ? link : [link];
  for (const value of values) {
    // Link values are `<uri>; param=...` separated by commas; URIs are inside angle brackets, so
    // splitting on `>` boundaries is safe even when the URI itself contains commas.
    const re = /<([^>]*)>\s*((?:;\s*[^;,]+)*)/g;
    for (let m = re.exec(value); m; m = re.exec(value)) {
      const params = m[2] ?? '';
      const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(params);
      if (rel && rel[1]!.split(/\s+/).includes('next')) {
        try {
          return new URL(m[1]!, pageUrl).toString();
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
