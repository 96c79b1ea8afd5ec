/**
 * The distribution reference grammar, as Docker, containerd and ORAS read it (distribution's
 * `reference/regexp.go` and `normalize.go`, oras-go's `registry/reference.go`):
 *
 * ```
 * reference        ::= [ registry "/" ] repository [ ":" tag ] [ "@" digest ]
 * registry         ::= host [ ":" port ]
 * host             ::= domain-name | "[" ipv6-address "]"
 * domain-name      ::= domain-component ( "." domain-component )*
 * domain-component ::= /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
 * port             ::= /[0-9]+/                       (1 to 65535)
 * repository       ::= path-component ( "/" path-component )*
 * path-component   ::= alphanumeric ( separator alphanumeric )*
 * alphanumeric     ::= /[a-z0-9]+/
 * separator        ::= /[._]|__|[-]+/
 * tag              ::= /[\w][\w.-]{0,127}/
 * digest           ::= "sha256:" 64 lowercase hex | "sha512:" 128 lowercase hex
 * ```
 *
 * Which component is the registry (distribution's `splitDockerDomain`): the text before the first
 * `/` is a registry only when it contains a `.` or a `:`, is `localhost`, or is an IPv6 bracket
 * literal; otherwise the whole name is a Docker Hub repository. Docker Hub is normalised as
 * Docker does: `ubuntu` -> `docker.io/library/ubuntu`, `index.docker.io/x/y` -> `docker.io/x/y`.
 * `registry/repository` is at most 255 characters.
 *
 * Where this is stricter than Docker (on purpose, so a typo fails early instead of reaching
 * Docker Hub): a single component that looks like a host (`localhost:5000`, `example.com`,
 * `[::1]:5000`) is rejected as a registry without a repository, and a 64-hex-character name is
 * rejected as a digest without its algorithm. A reference may carry both a tag and a digest
 * (the digest wins for fetching; the tag is kept for display). With neither, callers pick a default.
 *
 * Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidReferenceError } from '../errors.js';
import { parseDigest } from './digest.js';

export interface Reference {
  /** `docker.io`, `127.0.0.1:5000`, `[::1]:5000`, `ghcr.io` */
  registry: string;
  /** `library/ubuntu`, `eo/products` */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>` */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_LEGACY = 'index.docker.io';
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';
const OFFICIAL_PREFIX = 'library/';
export const MAX_NAME_LENGTH = 255;
export const MAX_TAG_LENGTH = 128;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_NAME = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6_CHARS = /^[a-fA-F0-9:]+$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
const BARE_HEX_ID = /^[a-f0-9]{64}$/;

/** Why `name` is not a valid repository, or undefined when it is. */
function repositoryProblem(name: string): string | undefined {
  if (name === '') return 'repository is empty';
  if (name.length > MAX_NAME_LENGTH) return `repository is ${name.length} characters long, more than ${MAX_NAME_LENGTH}`;
  if (/[A-Z]/.test(name)) return 'repository must be lowercase';
  const parts = name.split('/');
  for (const [i, part] of parts.entries()) {
    if (part === '') {
      if (i === 0) return 'repository starts with "/"';
      if (i === parts.length - 1) return 'repository ends with "/"';
      return 'repository has an empty path component ("//")';
    }
    if (!PATH_COMPONENT.test(part)) {
      return (
        `repository component ${JSON.stringify(part)} is invalid: use lowercase letters and digits, ` +
        'separated by ".", "_", "__" or dashes, starting and ending with a letter or digit'
      );
    }
  }
  return undefined;
}

/** Why `tag` is not a valid tag, or undefined when it is. */
function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'tag after ":" is empty';
  if (tag.length > MAX_TAG_LENGTH) return `tag is ${tag.length} characters long, more than ${MAX_TAG_LENGTH}`;
  if (!TAG.test(tag)) {
    return (
      `tag ${JSON.stringify(tag)} is invalid: use letters, digits, "_", "." and "-", ` +
      'starting with a letter, digit or "_"'
    );
  }
  return undefined;
}

/** Why `registry` (`host[:port]`) is not a valid registry, or undefined when it is. */
function registryProblem(registry: string): string | undefined {
  if (registry === '') return 'registry is empty';
  let host: string;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    if (close < 0) return `registry ${JSON.stringify(registry)} has "[" without "]"`;
    const address = registry.slice(1, close);
    if (!IPV6_CHARS.test(address) || !isIPv6(address)) {
      return `registry ${JSON.stringify(registry)} is not a valid IPv6 address in brackets (no zones, no embedded IPv4)`;
    }
    const rest = registry.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return `registry ${JSON.stringify(registry)} has text after "]" that is not ":PORT"`;
    host = registry.slice(0, close + 1);
    port = rest === '' ? undefined : rest.slice(1);
  } else {
    const colons = registry.split(':').length - 1;
    if (colons > 1) return `registry ${JSON.stringify(registry)} has more than one ":" (write IPv6 addresses in brackets, e.g. [::1]:5000)`;
    const colon = registry.indexOf(':');
    host = colon < 0 ? registry : registry.slice(0, colon);
    port = colon < 0 ? undefined : registry.slice(colon + 1);
    if (host === '') return `registry ${JSON.stringify(registry)} has no host before ":"`;
    if (!DOMAIN_NAME.test(host)) {
      return (
        `registry host ${JSON.stringify(host)} is invalid: use letters, digits, "-" and "." ` +
        '(an IPv4 address, a domain name, or an IPv6 address in brackets)'
      );
    }
  }
  if (port !== undefined) {
    if (port === '') return `registry ${JSON.stringify(registry)} has an empty port after ":"`;
    if (!/^[0-9]+$/.test(port)) return `registry port ${JSON.stringify(port)} is not a number`;
    const n = Number(port);
    if (n < 1 || n > 65535) return `registry port ${port} is out of range (1-65535)`;
  }
  return undefined;
}

/** distribution's rule: a first component is a registry when it has `.` or `:` or is localhost. */
function looksLikeRegistry(component: string): boolean {
  return component === 'localhost' || component.startsWith('[') || /[.:]/.test(component);
}

function normaliseRegistry(registry: string): string {
  return registry === DOCKER_HUB_LEGACY ? DOCKER_HUB : registry;
}

/**
 * Parses `[registry/]repository[:tag][@digest]`. Throws InvalidReferenceError whose message
 * quotes the input and says exactly what is wrong.
 */
export function parseReference(text: string): Reference {
  const fail = (why: string): InvalidReferenceError =>
    new InvalidReferenceError(`invalid reference ${JSON.stringify(text)}: ${why}`);

  if (text === '') throw fail('reference is empty');
  const scheme = SCHEME.exec(text);
  if (scheme) throw fail(`remove ${JSON.stringify(scheme[0])}: a reference has no scheme`);
  if (/\s/.test(text)) throw fail('contains whitespace');
  if (BARE_HEX_ID.test(text)) throw fail('a 64-character hex string is a digest without "sha256:", not a repository');

  // `@digest` first: a digest contains ":", so it must go before the tag is looked for.
  const at = text.indexOf('@');
  const nameAndTag = at < 0 ? text : text.slice(0, at);
  let digest: string | undefined;
  if (at >= 0) {
    digest = text.slice(at + 1);
    if (digest === '') throw fail('digest after "@" is empty');
    try {
      parseDigest(digest);
    } catch (err) {
      throw fail((err as Error).message);
    }
  }
  if (nameAndTag === '') throw fail('repository is empty');

  const firstSlash = nameAndTag.indexOf('/');
  const lastSlash = nameAndTag.lastIndexOf('/');
  if (firstSlash < 0 && nameAndTag.startsWith('[')) {
    throw fail(`missing repository: ${JSON.stringify(nameAndTag)} is a registry; add "/REPOSITORY"`);
  }

  // The tag is after the last ":" that follows the last "/" (a registry's port comes before it).
  const tagColon = nameAndTag.indexOf(':', lastSlash + 1);
  const name = tagColon < 0 ? nameAndTag : nameAndTag.slice(0, tagColon);
  const tag = tagColon < 0 ? undefined : nameAndTag.slice(tagColon + 1);

  if (firstSlash < 0 && (name === 'localhost' || name.includes('.'))) {
    throw fail(`missing repository: ${JSON.stringify(nameAndTag)} looks like a registry; add "/REPOSITORY"`);
  }

  let registry = DOCKER_HUB;
  let repository = name;
  const first = firstSlash < 0 ? undefined : name.slice(0, firstSlash);
  if (first !== undefined && looksLikeRegistry(first)) {
    const problem = registryProblem(first);
    if (problem) throw fail(problem);
    registry = normaliseRegistry(first);
    repository = name.slice(firstSlash + 1);
  }
  if (registry === DOCKER_HUB && repository !== '' && !repository.includes('/')) {
    repository = OFFICIAL_PREFIX + repository;
  }

  const repoProblem = repositoryProblem(repository);
  if (repoProblem) throw fail(repoProblem);
  const fullName = `${registry}/${repository}`;
  if (fullName.length > MAX_NAME_LENGTH) {
    throw fail(`name ${JSON.stringify(fullName)} is ${fullName.length} characters long, more than ${MAX_NAME_LENGTH}`);
  }
  if (tag !== undefined) {
    const problem = tagProblem(tag);
    if (problem) throw fail(problem);
  }

  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The canonical form `registry/repository[:tag][@digest]` (never abbreviated to `ubuntu`). */
export function formatReference(ref: Reference): string {
  let text = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) text += `:${ref.tag}`;
  if (ref.digest !== undefined) text += `@${ref.digest}`;
  return text;
}

/** The host to connect to for a registry name: Docker Hub's API is not served at docker.io. */
export function registryEndpoint(registry: string): string {
  return registry === DOCKER_HUB || registry === DOCKER_HUB_LEGACY ? DOCKER_HUB_ENDPOINT : registry;
}

export function isValidRepository(name: string): boolean {
  return repositoryProblem(name) === undefined;
}

export function isValidTag(tag: string): boolean {
  return tagProblem(tag) === undefined;
}

/**
 * Parses a registry given on its own (`host`, `host:port`, `[::1]:5000`, `localhost`), as for
 * `ocifs login` or a registry-wide mount. Returns it normalised (`index.docker.io` -> `docker.io`).
 */
export function parseRegistryHost(text: string): string {
  const fail = (why: string): InvalidReferenceError =>
    new InvalidReferenceError(`invalid registry ${JSON.stringify(text)}: ${why}`);
  const scheme = SCHEME.exec(text);
  if (scheme) throw fail(`remove ${JSON.stringify(scheme[0])}: a registry is written without a scheme`);
  if (text.includes('/')) throw fail('a registry has no "/" (a repository is given as REGISTRY/REPOSITORY)');
  if (/\s/.test(text)) throw fail('contains whitespace');
  const problem = registryProblem(text);
  if (problem) throw fail(problem);
  return normaliseRegistry(text);
}

/** The host part of `host[:port]` or `[v6]:port`, without brackets. */
function hostOf(registry: string): string {
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    return close < 0 ? registry : registry.slice(1, close);
  }
  const colon = registry.indexOf(':');
  return colon < 0 ? registry : registry.slice(0, colon);
}

/**
 * Whether a registry is on this machine (localhost, 127.0.0.0/8, ::1), where plain HTTP is the
 * default as with ORAS and Docker's implicit insecure loopback registries.
 */
export function isLocalRegistry(registry: string): boolean {
  const host = hostOf(registry).toLowerCase();
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) {
    // Canonicalise (0:0:0:0:0:0:0:1 -> ::1) through the WHATWG URL parser, which is pure.
    try {
      return new URL(`http://[${host}]/`).hostname === '[::1]';
    } catch {
      return false;
    }
  }
  return false;
}
