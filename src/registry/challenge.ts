/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): one or several challenges, each a scheme with
 * either auth-params (`key=value`, `key="quoted, with commas"`) or a token68. Pure.
 */

export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** Every challenge in one header value or in several (as undici gives repeated headers). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  return new ChallengeScanner(header).all();
}

/** The challenge a registry client should answer: Bearer when offered, else Basic. */
export function preferredChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}

class ChallengeScanner {
  private i = 0;
  constructor(private readonly s: string) {}

  all(): Challenge[] {
    const out: Challenge[] = [];
    for (;;) {
      this.skip(/[\s,]/);
      if (this.i >= this.s.length) return out;
      const scheme = this.token();
      if (!scheme) {
        this.i++; // not a token character: skip it rather than loop forever
        continue;
      }
      out.push(this.rest(scheme.toLowerCase()));
    }
  }

  /** After the scheme: a token68 or a comma-separated list of params, up to the next scheme. */
  private rest(scheme: string): Challenge {
    const challenge: Challenge = { scheme, params: {} };
    this.skip(/[ \t]/);
    const token68 = this.tryToken68();
    if (token68 !== undefined) {
      challenge.token68 = token68;
      return challenge;
    }
    for (;;) {
      this.skip(/[\s,]/);
      const start = this.i;
      const name = this.token();
      if (!name) return challenge;
      this.skip(/[ \t]/);
      if (this.s[this.i] !== '=') {
        // A bare token after a comma starts the next challenge.
        this.i = start;
        return challenge;
      }
      this.i++;
      this.skip(/[ \t]/);
      challenge.params[name.toLowerCase()] = this.s[this.i] === '"' ? this.quoted() : this.bareValue();
    }
  }

  /** A token68 is the whole credential: followed only by space/comma/end, never by `=value`. */
  private tryToken68(): string | undefined {
    const m = TOKEN68.exec(this.s.slice(this.i));
    if (!m) return undefined;
    const after = this.s.slice(this.i + m[0].length);
    if (after !== '' && !/^\s*(,|$)/.test(after)) return undefined;
    // `realm=,` is an empty param rather than a token68 ending in one `=`.
    if (/^[^=]+=$/.test(m[0]) && after.trimStart().startsWith(',')) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  private token(): string {
    const start = this.i;
    while (this.i < this.s.length && TOKEN_CHAR.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  /** Unquoted values should be tokens; registries in the wild send URLs unquoted too, so read up to `,` or space. */
  private bareValue(): string {
    const start = this.i;
    while (this.i < this.s.length && !/[\s,]/.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  private quoted(): string {
    let out = '';
    this.i++; // opening quote
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c === '\\' && this.i < this.s.length) out += this.s[this.i++]!;
      else out += c;
    }
    return out; // unterminated: take what there is
  }

  private skip(re: RegExp): void {
    while (this.i < this.s.length && re.test(this.s[this.i]!)) this.i++;
  }
}
