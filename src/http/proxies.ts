// Which X-Forwarded-* headers to believe (TRUST_PROXY), and what the client's address and this
// service's public origin are then. A client can write any X-Forwarded-For it likes: only the
// entries added by proxies we trust say who the client is, so none are believed by default.
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';

/**
 * TRUST_PROXY parsed: false (no proxy: the socket's peer is the client), true (every hop: only
 * behind a proxy that overwrites X-Forwarded-For), a hop count (the nearest N proxies, whatever
 * their address), or addresses, CIDR ranges and proxy-addr's names (loopback, linklocal, uniquelocal).
 */
export type TrustProxy = boolean | number | string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY's text as a setting, or an error message. */
export function parseTrustProxy(text: string): TrustProxy | { error: string } {
  const value = text.trim();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0)
    return { error: 'must be true, false, a hop count, or addresses and CIDR ranges separated by commas' };
  for (const entry of entries) {
    // proxy-addr reads '1.2.3' and '0x10' as addresses; only the forms everyone reads alike are taken.
    if (!NAMED_RANGES.has(entry) && isIP(entry.split('/')[0]!) === 0)
      return { error: `"${entry}" is not an IP address, a CIDR range or one of ${[...NAMED_RANGES].join(', ')}` };
  }
  try {
    proxyAddr.compile(entries);
  } catch (error) {
    return { error: (error as Error).message };
  }
  return entries;
}

/**
 * Fastify's trustProxy option for a setting. A hop count becomes a function: Fastify itself
 * trusts no forwarded header given a bare number, where TRUST_PROXY means the nearest N hops.
 */
export function trustProxyOption(setting: TrustProxy): boolean | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return setting > 0 ? (_address, hop) => hop < setting : false;
  if (Array.isArray(setting)) return proxyAddr.compile(setting);
  return setting;
}

/**
 * The client's address: request.ip as TRUST_PROXY allows. When a trusted proxy forwarded something
 * that is no address, the proxy's own address stands in: a garbage value never becomes a key.
 */
export function clientAddress(request: FastifyRequest): string {
  const ip = request.ip;
  return isIP(ip) !== 0 ? ip : (request.socket.remoteAddress ?? 'unknown');
}

/**
 * The address a rate limit counts: an IPv4 address as it is, an IPv6 one by its /64 network (one
 * subscriber's usual allocation: a client must not get a fresh count for each of its 2^64 addresses).
 * IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function rateLimitAddress(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const address = ip.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  // Expand '::' into the zero groups it stands for; an embedded IPv4 tail counts as two groups.
  const [head = '', tail] = address.split('::');
  const groupsOf = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * A Host value: a host name (underscores allowed, as container names have them) or IPv4 address, or a
 * bracketed IPv6 address, with an optional port. Nothing else can end or extend the link.
 */
const HOST =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The origin this request reached, for absolute links: PUBLIC_URL when set, else the protocol and
 * host (forwarded ones only from trusted proxies, as Fastify applies TRUST_PROXY). Null when the
 * host or protocol is not one a link may carry: the caller then links relatively.
 */
export function publicOrigin(request: FastifyRequest, publicUrl?: string): string | null {
  if (publicUrl) return publicUrl;
  const protocol = request.protocol;
  const host = request.host;
  if ((protocol !== 'http' && protocol !== 'https') || host.length > 260 || !HOST.test(host)) return null;
  const origin = `${protocol}://${host}`;
  // The URL parser has the last word (a port over 65535, a bracketed value that is no IPv6 address).
  return URL.canParse(origin) ? origin : null;
}
