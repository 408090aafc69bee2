/**
 * Client addresses are personal data. With ANONYMIZE_IP on, the hosts panel shows them masked as GoAccess's
 * `--anonymize-ip` does (its default level): the last octet of an IPv4 address and the last 64 bits of an
 * IPv6 address become zeros (192.168.20.100 → 192.168.20.0, 2a03:2880:2110:df07:face:b00c::1 →
 * 2a03:2880:2110:df07::). Unique visitors are still counted on the whole address, as GoAccess counts them.
 */
import { isIP } from 'node:net';

/** ANONYMIZE_IP=true|1 turns masking on (the `aws` stage sets it); unset or false leaves addresses whole. */
export function anonymizeIpEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.ANONYMIZE_IP ?? '').trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new Error(`ANONYMIZE_IP must be true or false, not ${JSON.stringify(env.ANONYMIZE_IP)}`);
}

/** The 8 groups of a valid IPv6 address; a dotted IPv4 tail reads as zeros (it is masked anyway). */
function ipv6Groups(address: string): number[] {
  const lastColon = address.lastIndexOf(':');
  const text = address.includes('.') ? `${address.slice(0, lastColon + 1)}0:0` : address;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return parse(text);
  const left = parse(text.slice(0, gap));
  const right = parse(text.slice(gap + 2));
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** IPv6 text as inet_ntop writes it: lowercase, no leading zeros, the first longest run of zeros as `::`. */
function formatIpv6(groups: number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

/** The address masked as GoAccess --anonymize-ip masks it; anything else (`unix:`) unchanged. */
export function maskAddress(address: string): string {
  const family = isIP(address);
  if (family === 4) return address.slice(0, address.lastIndexOf('.')) + '.0';
  if (family === 6) {
    const groups = ipv6Groups(address);
    return formatIpv6([...groups.slice(0, 4), 0, 0, 0, 0]);
  }
  return address;
}
