import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { VanaLoadError } from '../errors.ts';
import {
  decryptWithPassword,
  DEFAULT_S2K_ITERATION_COUNT_BYTE,
  encryptWithPassword,
  s2kIterationCount,
} from './openpgp.ts';

// A Vana file key has this shape: the 132-char EIP-191 signature, 0x included.
const password = `0x${'5a'.repeat(65)}`;
const plaintext = new TextEncoder().encode(JSON.stringify({ user: 'load-test', items: [1, 2, 3] }));

interface RawPacket {
  tag: number;
  body: Uint8Array;
}

/** RFC 4880 4.2 packet reader (new and old format headers, partial body lengths). */
function readPackets(bytes: Uint8Array): RawPacket[] {
  const packets: RawPacket[] = [];
  let pos = 0;
  const byte = (): number => {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated packet');
    return b;
  };
  while (pos < bytes.length) {
    const header = byte();
    if ((header & 0x80) === 0) throw new Error(`bad packet header 0x${header.toString(16)}`);
    if ((header & 0x40) === 0) {
      // Old format: tag in bits 5-2, length type in bits 1-0 (3 = indeterminate is not used here).
      const lengthBytes = [1, 2, 4][header & 3] ?? 0;
      let length = 0;
      for (let i = 0; i < lengthBytes; i++) length = length * 256 + byte();
      packets.push({ tag: (header >> 2) & 0xf, body: bytes.subarray(pos, pos + length) });
      pos += length;
      continue;
    }
    const chunks: Uint8Array[] = [];
    for (;;) {
      const first = byte();
      let length: number;
      let partial = false;
      if (first < 192) length = first;
      else if (first < 224) length = ((first - 192) << 8) + byte() + 192;
      else if (first === 255) length = byte() * 2 ** 24 + byte() * 2 ** 16 + byte() * 2 ** 8 + byte();
      else {
        length = 1 << (first & 0x1f);
        partial = true;
      }
      chunks.push(bytes.subarray(pos, pos + length));
      pos += length;
      if (!partial) break;
    }
    packets.push({ tag: header & 0x3f, body: Buffer.concat(chunks) });
  }
  return packets;
}

/** RFC 4880 3.7.1.3 iterated+salted S2K with SHA-256, producing one 32-byte key. */
function iteratedS2k(salt: Uint8Array, pass: string, countByte: number): Buffer {
  const data = Buffer.concat([salt, Buffer.from(pass, 'utf8')]);
  const count = Math.max(s2kIterationCount(countByte), data.length);
  const hash = createHash('sha256');
  for (let done = 0; done < count; done += data.length) hash.update(data.subarray(0, Math.min(data.length, count - done)));
  return hash.digest();
}

function cfbDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-cfb', key, Buffer.alloc(16));
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function bytesOf(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
}

async function rejection(promise: Promise<unknown>): Promise<VanaLoadError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof VanaLoadError)) throw new Error(`expected a VanaLoadError, got ${String(error)}`);
  return error;
}

describe('encryptWithPassword / decryptWithPassword', () => {
  it('round-trips bytes with the default S2K', async () => {
    const encrypted = await encryptWithPassword(plaintext, password);
    expect(await decryptWithPassword(encrypted, password)).toEqual(plaintext);
  });

  it('round-trips an empty file and a 100 KB file with a low S2K count', async () => {
    for (const data of [new Uint8Array(0), bytesOf(100_000)]) {
      const encrypted = await encryptWithPassword(data, password, { s2kIterationCountByte: 0 });
      // Compare digests: a deep toEqual over 100 000 elements takes over a second.
      expect(sha256(await decryptWithPassword(encrypted, password))).toBe(sha256(data));
    }
  });

  it('decrypts a low-count message with plain openpgp defaults (the reader takes the count from the packet)', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 96 });
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: encrypted }),
      passwords: [password],
      format: 'binary',
    });
    expect(data).toEqual(plaintext);
  });

  it('produces a fresh salt and session key on every call', async () => {
    const [a, b] = await Promise.all([
      encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 }),
      encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 }),
    ]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('error: rejects a wrong password with OPENPGP_DECRYPT_FAILED', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 });
    const error = await rejection(decryptWithPassword(encrypted, `${password.slice(0, -1)}b`));
    expect([error.code, error.errorClass, error.shortMessage]).toEqual([
      'OPENPGP_DECRYPT_FAILED',
      'integrity',
      'OpenPGP decryption failed: wrong password or corrupted message',
    ]);
  });

  it('error: rejects a modified ciphertext byte with OPENPGP_DECRYPT_FAILED', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 });
    const tampered = Uint8Array.from(encrypted);
    tampered[tampered.length - 5]! ^= 0x01;
    const error = await rejection(decryptWithPassword(tampered, password));
    expect([error.code, error.errorClass]).toEqual(['OPENPGP_DECRYPT_FAILED', 'integrity']);
  });

  it('error: rejects a truncated message with OPENPGP_MALFORMED (the packet framing no longer adds up)', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 });
    const error = await rejection(decryptWithPassword(encrypted.subarray(0, encrypted.length - 10), password));
    expect([error.code, error.errorClass]).toEqual(['OPENPGP_MALFORMED', 'integrity']);
  });

  it('error: rejects bytes that are not OpenPGP with OPENPGP_MALFORMED', async () => {
    const error = await rejection(decryptWithPassword(new TextEncoder().encode('{"not":"openpgp"}'), password));
    expect([error.code, error.errorClass, error.shortMessage]).toEqual([
      'OPENPGP_MALFORMED',
      'integrity',
      'Not a valid OpenPGP message',
    ]);
  });

  it('error: rejects an empty password and an out-of-range S2K count before encrypting', async () => {
    expect((await rejection(encryptWithPassword(plaintext, ''))).code).toBe('OPENPGP_INVALID_INPUT');
    const error = await rejection(encryptWithPassword(plaintext, password, { s2kIterationCountByte: 256 }));
    expect([error.code, error.shortMessage]).toEqual([
      'OPENPGP_INVALID_OPTION',
      'Expected s2kIterationCountByte to be an integer in 0-255, got 256',
    ]);
  });
});

describe('packet layout (PROTOCOL.md 6)', () => {
  it('uses openpgp default count byte 224, i.e. 16 MiB hashed per key derivation', () => {
    expect(DEFAULT_S2K_ITERATION_COUNT_BYTE).toBe(224);
    expect([s2kIterationCount(224), s2kIterationCount(96), s2kIterationCount(0)]).toEqual([16_777_216, 65_536, 1024]);
  });

  it('is SKESK v4 then SEIPD v1, as openpgp reads it', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 0 });
    const message = await openpgp.readMessage({ binaryMessage: encrypted });
    expect(message.packets.map((p) => (p.constructor as typeof openpgp.BasePacket).tag)).toEqual([
      openpgp.enums.packet.symEncryptedSessionKey,
      openpgp.enums.packet.symEncryptedIntegrityProtectedData,
    ]);
  });

  it('is, byte by byte, SKESK v4 (AES-256, iterated SHA-256 S2K) + SEIPD v1 with MDC around an uncompressed literal packet', async () => {
    const encrypted = await encryptWithPassword(plaintext, password);
    const packets = readPackets(encrypted);
    expect(packets.map((p) => p.tag)).toEqual([3, 18]);
    const [skesk, seipd] = packets as [RawPacket, RawPacket];

    // SKESK: version, cipher, S2K type, S2K hash, salt(8), count byte, encrypted session key.
    expect([...skesk.body.subarray(0, 4), skesk.body[12]]).toEqual([4, 9, 3, 8, 224]);
    expect(skesk.body.length).toBe(13 + 33);
    const s2kKey = iteratedS2k(skesk.body.subarray(4, 12), password, 224);
    const session = cfbDecrypt(s2kKey, skesk.body.subarray(13));
    expect(session[0]).toBe(9); // the session key is for AES-256 too
    const sessionKey = session.subarray(1);
    expect(sessionKey.length).toBe(32);

    // SEIPD v1: CFB with a zero IV over prefix(16) ‖ prefix[14..16) ‖ packets ‖ MDC packet(0xd3 0x14 + SHA-1).
    expect(seipd.body[0]).toBe(1);
    const inner = cfbDecrypt(sessionKey, seipd.body.subarray(1));
    expect([...inner.subarray(16, 18)]).toEqual([...inner.subarray(14, 16)]);
    const mdc = inner.subarray(inner.length - 22);
    expect([...mdc.subarray(0, 2)]).toEqual([0xd3, 0x14]);
    expect(Buffer.from(mdc.subarray(2))).toEqual(createHash('sha1').update(inner.subarray(0, inner.length - 20)).digest());

    // The only inner packet is a binary literal packet (tag 11, no compressed-data tag 8) holding our bytes.
    const literals = readPackets(inner.subarray(18, inner.length - 22));
    expect(literals.map((p) => p.tag)).toEqual([11]);
    const literal = literals[0]!.body;
    const nameLength = literal[1]!;
    expect(String.fromCharCode(literal[0]!)).toBe('b');
    expect(Buffer.from(literal.subarray(2 + nameLength + 4))).toEqual(Buffer.from(plaintext));
  });

  it('writes the requested S2K count byte into the SKESK packet', async () => {
    const encrypted = await encryptWithPassword(plaintext, password, { s2kIterationCountByte: 96 });
    expect(readPackets(encrypted)[0]!.body[12]).toBe(96);
  });

  it('decrypts a message assembled by hand with node:crypto', async () => {
    // Independent writer: password → S2K key used directly as the session key (SKESK without an
    // encrypted session key), SEIPD v1 over a literal packet, as GnuPG may produce.
    const salt = Buffer.from('0011223344556677', 'hex');
    const key = iteratedS2k(salt, password, 96);
    const literal = Buffer.concat([Buffer.from([0xcb, 6 + plaintext.length, 0x62, 0, 0, 0, 0, 0]), plaintext]);
    const prefix = Buffer.from('000102030405060708090a0b0c0d0e0f0e0f', 'hex');
    const mdcInput = Buffer.concat([prefix, literal, Buffer.from([0xd3, 0x14])]);
    const clear = Buffer.concat([mdcInput, createHash('sha1').update(mdcInput).digest()]);
    const cipher = createCipheriv('aes-256-cfb', key, Buffer.alloc(16));
    const body = Buffer.concat([Buffer.from([1]), cipher.update(clear), cipher.final()]);
    const skesk = Buffer.concat([Buffer.from([0xc3, 13, 4, 9, 3, 8]), salt, Buffer.from([96])]);
    const message = Buffer.concat([skesk, Buffer.from([0xd2, body.length]), body]);
    expect(await decryptWithPassword(message, password)).toEqual(plaintext);
  });
});
