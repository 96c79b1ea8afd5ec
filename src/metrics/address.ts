/**
 * `--metrics-addr` text -> host and port. Pure. The host defaults to loopback: metrics say what
 * is mounted and read, so exposing them beyond the machine must be asked for (`0.0.0.0:9464`).
 */
import { InvalidArgumentError } from '../errors.js';

export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_METRICS_ADDR = `127.0.0.1:${DEFAULT_METRICS_PORT}`;

export interface MetricsAddress {
  /** An IP address or host name, without brackets (`::1`, not `[::1]`). */
  host: string;
  /** 0 asks the system for a free port. */
  port: number;
}

/**
 * Accepts `HOST:PORT`, `[IPv6]:PORT`, `:PORT` and `PORT` (both on 127.0.0.1), and `HOST` alone
 * (port 9464, the OpenTelemetry Prometheus exporters' default).
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  const input = text.trim();
  const fail = (why: string) =>
    new InvalidArgumentError(`invalid metrics address ${JSON.stringify(text)}: ${why}`, {
      hint: `use HOST:PORT, e.g. ${DEFAULT_METRICS_ADDR} (loopback) or 0.0.0.0:${DEFAULT_METRICS_PORT} (every interface)`,
    });
  if (input === '') throw fail('it is empty');
  if (input.includes('://') || input.includes('/')) throw fail('give HOST:PORT, not a URL (the path is always /metrics)');

  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(input);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!host.includes(':')) throw fail('brackets are for IPv6 addresses');
  } else if (/^\d+$/.test(input)) {
    host = '';
    portText = input;
  } else {
    const colons = input.split(':').length - 1;
    if (colons > 1) throw fail('write an IPv6 address in brackets, e.g. [::1]:9464');
    const at = input.lastIndexOf(':');
    host = at < 0 ? input : input.slice(0, at);
    portText = at < 0 ? undefined : input.slice(at + 1);
  }

  if (host === '') host = '127.0.0.1';
  else if (!/^[A-Za-z0-9.:%_-]+$/.test(host)) throw fail(`${JSON.stringify(host)} is not a host name or IP address`);

  let port = DEFAULT_METRICS_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw fail(`${JSON.stringify(portText)} is not a port number`);
    port = Number(portText);
    if (port > 65535) throw fail(`port ${port} is above 65535`);
  }
  return { host, port };
}

/** `host:port`, with brackets around IPv6 addresses: for messages and URLs. */
export function formatMetricsAddress(address: MetricsAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
