/**
 * Who signed a relay request: the EIP-712 digest of a `ServerFilesAndPermission` message and the
 * address it recovers to. This is the costliest step of `/api/relay`, so it is done in the fewest
 * operations: the digest is encoded for this one type (viem's generic `hashTypedData` walks the
 * types and validates every value, ~5× the cost; keccak is hash-wasm's) and the public key is recovered by
 * libsecp256k1 (npm `secp256k1`'s native build, ~20× faster than JS elliptic-curve math).
 * Where that build cannot load (a platform without a prebuilt binary), recovery runs on
 * `@noble/curves`, the same code viem uses, and `implementation` says so.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { keccak256Bytes } from '../../chain/keccak256Bytes.ts';
import { loadNativeSecp256k1 } from '../../chain/nativeSecp256k1.ts';
import type { SignedServerFilesAndPermissionRequest } from '../../protocol/relayerRequest.ts';

type TypedData = SignedServerFilesAndPermissionRequest['typedData'];

export interface RelaySignerRecovery {
  /** `native`: libsecp256k1; `js`: @noble/curves (no native build for this platform). */
  readonly implementation: 'native' | 'js';
  /** The signer's address; throws when the signature recovers to no point (r or s out of range, bad v). */
  recover(typedData: TypedData, signature: Hex): Address;
}

export interface CreateRelaySignerRecoveryParameters {
  /** `auto` (default): native when it loads, else js. */
  implementation?: 'auto' | 'native' | 'js';
}

const utf8 = new TextEncoder();
const keccak = keccak256Bytes;
const keccakText = (text: string) => keccak256Bytes(utf8.encode(text));

const DOMAIN_TYPEHASH = keccakText('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)');
// The contract's SERVER_FILES_AND_PERMISSION_TYPEHASH (0xaadba5e5…, PROTOCOL.md 2.3).
const MESSAGE_TYPEHASH = keccakText(
  'ServerFilesAndPermission(uint256 nonce,uint256 granteeId,string grant,string[] fileUrls,uint256[] schemaIds,address serverAddress,string serverUrl,string serverPublicKey,Permission[][] filePermissions)Permission(address account,string key)',
);
const PERMISSION_TYPEHASH = keccakText('Permission(address account,string key)');

function word(value: bigint | number): Uint8Array {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

/** An address as an ABI word; a mixed-case address must carry a valid checksum, as viem requires. */
function addressWord(address: string): Uint8Array {
  if (!isAddress(address)) throw new Error(`Address "${address}" is invalid.`);
  const out = new Uint8Array(32);
  out.set(Buffer.from(address.slice(2), 'hex'), 12);
  return out;
}

const domainSeparators = new Map<string, Uint8Array>();
function domainSeparator(domain: TypedData['domain']): Uint8Array {
  const key = `${domain.name}\n${domain.version}\n${domain.chainId}\n${domain.verifyingContract.toLowerCase()}`;
  let separator = domainSeparators.get(key);
  if (separator === undefined) {
    separator = keccak(DOMAIN_TYPEHASH, keccakText(domain.name), keccakText(domain.version), word(domain.chainId), addressWord(domain.verifyingContract));
    if (domainSeparators.size < 16) domainSeparators.set(key, separator);
  }
  return separator;
}

const EIP191_PREFIX = Uint8Array.of(0x19, 0x01);

/**
 * The EIP-712 digest (`\x19\x01 ‖ domainSeparator ‖ hashStruct(message)`) of a parsed
 * `ServerFilesAndPermission` request: the bytes its signature signs. Equal to viem's
 * `hashTypedData` for the same typed data (a test pins that).
 *
 * @example
 * const digest = hashServerFilesAndPermission(request.typedData); // Uint8Array(32)
 */
export function hashServerFilesAndPermission({ domain, message }: TypedData): Uint8Array {
  const structHash = keccak(
    MESSAGE_TYPEHASH,
    word(message.nonce),
    word(message.granteeId),
    keccakText(message.grant),
    keccak(...message.fileUrls.map(keccakText)),
    keccak(...message.schemaIds.map(word)),
    addressWord(message.serverAddress),
    keccakText(message.serverUrl),
    keccakText(message.serverPublicKey),
    keccak(
      ...message.filePermissions.map((permissions) =>
        keccak(...permissions.map((p) => keccak(PERMISSION_TYPEHASH, addressWord(p.account), keccakText(p.key)))),
      ),
    ),
  );
  return keccak(EIP191_PREFIX, domainSeparator(domain), structHash);
}

type RecoverPublicKey = (rs: Uint8Array, recid: number, digest: Uint8Array) => Uint8Array;

function loadNative(): RecoverPublicKey | undefined {
  const native = loadNativeSecp256k1();
  return native && ((rs, recid, digest) => native.ecdsaRecover(rs, recid, digest, false));
}

const recoverJs: RecoverPublicKey = (rs, recid, digest) =>
  secp256k1.Signature.fromBytes(Buffer.concat([Uint8Array.of(recid), rs]), 'recovered').recoverPublicKey(digest).toBytes(false);

/**
 * Creates the signer recovery of `/api/relay` (see the file header for why it is hand-made).
 *
 * @example
 * const recovery = createRelaySignerRecovery();
 * const signer = recovery.recover(request.typedData, request.signature);
 */
export function createRelaySignerRecovery({ implementation = 'auto' }: CreateRelaySignerRecoveryParameters = {}): RelaySignerRecovery {
  const native = implementation === 'js' ? undefined : loadNative();
  if (implementation === 'native' && native === undefined) {
    throw new Error('The native secp256k1 build (npm secp256k1) does not load on this platform');
  }
  const recoverPublicKey = native ?? recoverJs;
  return {
    implementation: native ? 'native' : 'js',
    recover(typedData, signature) {
      if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new Error('not a 65-byte 0x hex signature');
      const v = Number.parseInt(signature.slice(130, 132), 16);
      const recid = v >= 27 ? v - 27 : v;
      if (recid !== 0 && recid !== 1) throw new Error(`invalid v ${v}`);
      const publicKey = recoverPublicKey(Buffer.from(signature.slice(2, 130), 'hex'), recid, hashServerFilesAndPermission(typedData));
      return getAddress(`0x${Buffer.from(keccak(publicKey.subarray(1)).subarray(12)).toString('hex')}`);
    },
  };
}
