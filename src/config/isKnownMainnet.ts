/** Chain ids of mainnets a load test must not touch by accident, with their names for messages. */
export const KNOWN_MAINNETS: Readonly<Record<number, string>> = Object.freeze({
  1: 'Ethereum mainnet',
  1480: 'Vana mainnet',
});

/**
 * Whether `chainId` is a known mainnet, where transactions spend real money. Funding and
 * `loadConfig` refuse one unless `--allow-mainnet` is given.
 *
 * @example
 * isKnownMainnet(1480); // true (Vana mainnet)
 * isKnownMainnet(14800); // false (Moksha testnet)
 */
export function isKnownMainnet(chainId: number): boolean {
  return Object.hasOwn(KNOWN_MAINNETS, chainId);
}
