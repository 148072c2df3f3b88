/** An upload's bytes as text, for the CSV and XML readers. */
import { DomainError } from '../../domain/errors';

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Strict UTF-8 decoding, as the bytes stream in. Drops a leading UTF-8 BOM;
 * refuses UTF-16/32 byte order marks, invalid or truncated byte sequences, and NUL characters (UTF-16
 * without a BOM, or a binary file), naming the byte offset and line.
 */
export async function* decodeUtf8(source: ByteSource): AsyncGenerator<string> {
  const validator = new Utf8Validator();
  // ignoreBOM: false strips a leading UTF-8 BOM; the bytes are validated before they get here.
  const decoder = new TextDecoder('utf-8');
  // The first bytes are held back until a byte order mark can be recognised, even from 1-byte chunks.
  let head: Uint8Array | undefined = new Uint8Array(0);
  for await (const chunk of source) {
    let bytes = chunk;
    if (head) {
      head = concat(head, chunk);
      if (head.length < 4) continue;
      refuseForeignBom(head);
      bytes = head;
      head = undefined;
    }
    validator.push(bytes);
    const text = decoder.decode(bytes, { stream: true });
    if (text !== '') yield text;
  }
  if (head) {
    refuseForeignBom(head);
    validator.push(head);
    const text = decoder.decode(head, { stream: true });
    if (text !== '') yield text;
  }
  validator.end();
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

function refuseForeignBom(head: Uint8Array): void {
  const [a, b, c, d] = head;
  const utf16 = (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff);
  const utf32be = a === 0 && b === 0 && c === 0xfe && d === 0xff;
  if (utf16 || utf32be) {
    throw new DomainError(
      'UPLOAD_NOT_UTF8',
      'the file is UTF-16 or UTF-32 encoded (it starts with a byte order mark); save it as UTF-8',
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/** Incremental UTF-8 validation as the WHATWG decoder defines it (no overlongs, surrogates or > U+10FFFF). */
class Utf8Validator {
  private offset = 0;
  private line = 1;
  /** Continuation bytes still expected, the allowed range of the next one, and where the sequence began. */
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private sequenceStart = 0;

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      const at = this.offset + i;
      if (this.needed > 0) {
        if (byte < this.lower || byte > this.upper) this.fail(this.sequenceStart);
        this.lower = 0x80;
        this.upper = 0xbf;
        this.needed--;
        continue;
      }
      if (byte < 0x80) {
        if (byte === 0x0a) this.line++;
        else if (byte === 0) {
          throw new DomainError(
            'UPLOAD_NOT_UTF8',
            `the file contains a NUL character at byte offset ${at} (line ${this.line}), so it is not UTF-8 text; is it UTF-16 or binary?`,
          );
        }
        continue;
      }
      this.sequenceStart = at;
      if (byte >= 0xc2 && byte <= 0xdf) this.needed = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        this.needed = 2;
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.needed = 3;
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
      } else {
        this.fail(at);
      }
    }
    this.offset += bytes.length;
  }

  end(): void {
    if (this.needed > 0) this.fail(this.sequenceStart);
  }

  private fail(at: number): never {
    throw new DomainError(
      'UPLOAD_NOT_UTF8',
      `the file is not valid UTF-8: invalid byte sequence at byte offset ${at} (line ${this.line}); save it as UTF-8`,
    );
  }
}
