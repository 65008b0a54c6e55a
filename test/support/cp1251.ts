/**
 * Encodes text as windows-1251 bytes (ASCII and Russian Cyrillic only), so tests can build payloads
 * in the encoding some upstreams serve; Node's TextEncoder writes UTF-8 only.
 */
export function encodeCp1251 (text: string): Buffer {
  const bytes: number[] = []
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0
    if (c < 0x80) bytes.push(c)
    else if (c >= 0x410 && c <= 0x44f) bytes.push(c - 0x350)
    else if (c === 0x401) bytes.push(0xa8)
    else if (c === 0x451) bytes.push(0xb8)
    else throw new Error(`U+${c.toString(16)} has no windows-1251 byte here`)
  }
  return Buffer.from(bytes)
}
