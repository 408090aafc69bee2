/**
 * nginx writes `"`, `\` and every byte below 0x20 or from 0x7F up as `\xNN` in access logs
 * (ngx_http_log_escape). Decoding gives back the bytes the client sent; where those bytes are not
 * UTF-8 (TLS handshakes, Latin-1 junk) the escaped text is kept as it is, since the raw line travels
 * beside the fields anyway.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 70) return code - 55; // A-F
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

export function decodeNginxEscapes(text: string): string {
  if (text.indexOf('\\') === -1) return text;
  const bytes: number[] = [];
  const plain = Buffer.from(text, 'utf8');
  for (let i = 0; i < plain.length; i++) {
    const byte = plain[i] as number;
    if (byte === 0x5c && i + 1 < plain.length) {
      const next = plain[i + 1] as number;
      if (next === 0x78 && i + 3 < plain.length) {
        const hi = hexValue(plain[i + 2] as number);
        const lo = hexValue(plain[i + 3] as number);
        if (hi >= 0 && lo >= 0) {
          bytes.push(hi * 16 + lo);
          i += 3;
          continue;
        }
      }
      if (next === 0x22 || next === 0x5c) {
        bytes.push(next);
        i += 1;
        continue;
      }
    }
    bytes.push(byte);
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return text;
  }
}
