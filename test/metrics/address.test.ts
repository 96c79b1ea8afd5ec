import { describe, expect, it } from 'vitest';
import { formatMetricsAddress, parseMetricsAddress } from '../../src/metrics/index.js';
import { OcifsError } from '../../src/errors.js';

describe('parseMetricsAddress', () => {
  const good: [string, string, number][] = [
    ['127.0.0.1:9464', '127.0.0.1', 9464],
    ['0.0.0.0:9100', '0.0.0.0', 9100],
    ['localhost:8080', 'localhost', 8080],
    ['metrics.example.internal:9464', 'metrics.example.internal', 9464],
    [':9464', '127.0.0.1', 9464],
    ['9465', '127.0.0.1', 9465],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['10.1.2.3', '10.1.2.3', 9464],
    ['[::1]:9464', '::1', 9464],
    ['[::]:9000', '::', 9000],
    ['[fe80::1%eth0]:9464', 'fe80::1%eth0', 9464],
    ['[::1]', '::1', 9464],
    ['  127.0.0.1:9464 ', '127.0.0.1', 9464],
  ];
  for (const [text, host, port] of good) {
    it(`${JSON.stringify(text)} -> ${host} port ${port}`, () => {
      expect(parseMetricsAddress(text)).toEqual({ host, port });
    });
  }

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['127.0.0.1:', /is not a port number/],
    ['127.0.0.1:http', /is not a port number/],
    ['127.0.0.1:65536', /above 65535/],
    ['127.0.0.1:123456', /is not a port number/],
    ['::1:9464', /IPv6 address in brackets/],
    ['[127.0.0.1]:9464', /brackets are for IPv6/],
    ['http://127.0.0.1:9464', /not a URL/],
    ['127.0.0.1:9464/metrics', /not a URL/],
    ['bad host:9464', /not a host name/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      let caught: unknown;
      try {
        parseMetricsAddress(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(OcifsError);
      expect((caught as OcifsError).code).toBe('INVALID_ARGUMENT');
      expect((caught as OcifsError).message).toMatch(message);
      expect((caught as OcifsError).hint).toMatch(/127\.0\.0\.1:9464/);
    });
  }
});

describe('formatMetricsAddress', () => {
  const cases: [{ host: string; port: number }, string][] = [
    [{ host: '127.0.0.1', port: 9464 }, '127.0.0.1:9464'],
    [{ host: '::1', port: 9464 }, '[::1]:9464'],
    [{ host: 'localhost', port: 1 }, 'localhost:1'],
  ];
  for (const [address, text] of cases) {
    it(`${text} round-trips`, () => {
      expect(formatMetricsAddress(address)).toBe(text);
      expect(parseMetricsAddress(text)).toEqual(address);
    });
  }
});
