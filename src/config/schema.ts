/**
 * The one config table: every setting is declared here once with its config key, env var, CLI
 * flag, description, parser (type + accepted range), default and secrecy. The `VanaLoadConfig`
 * type, `loadConfig`, the commander options, the display copy and `.env.example` are all derived
 * from it, so an env var, a flag and a key cannot drift apart.
 */
import {
  address,
  boolean,
  decimal,
  duration,
  etherAmount,
  gweiAmount,
  integer,
  mnemonic,
  oneOf,
  percent,
  privateKey,
  privateKeyList,
  size,
  text,
  uint256Id,
  url,
  urlList,
  type FieldParser,
} from './parsers.ts';
import { PRESET_NAMES } from './presetNames.ts';
import { DEFAULT_HEALTH_LIMITS, HEALTH_CPU_WINDOW_S } from '../metrics/healthLimits.ts';

/** One setting. `Optional` fields have no default and may be `undefined` in the config. */
export interface FieldSpec<T, Optional extends boolean = boolean> {
  /** Env var name: `VANA_…`, or a well-known name (`AWS_REGION`, `OPENAI_API_KEY`). */
  readonly env: string;
  /** Long CLI flag, e.g. `--concurrency`. */
  readonly flag: `--${string}`;
  /** One or two sentences for `--help` and `.env.example`. */
  readonly description: string;
  readonly parser: FieldParser<T>;
  readonly optional: Optional;
  readonly default: Optional extends true ? undefined : T;
  /** Redacted in logs, `summary.json` and reports; never echoed in error messages. */
  readonly secret: boolean;
  /** Shown in `.env.example` for a field without a default. */
  readonly example?: string;
}

interface FieldInput<T> {
  env: string;
  flag: `--${string}`;
  description: string;
  parser: FieldParser<T>;
  secret?: boolean;
  example?: string;
}

function field<T>(spec: FieldInput<T> & { default: NoInfer<T> }): FieldSpec<T, false> {
  return { ...spec, optional: false, secret: spec.secret ?? false };
}

function optionalField<T>(spec: FieldInput<T>): FieldSpec<T, true> {
  return { ...spec, optional: true, default: undefined, secret: spec.secret ?? false };
}

const PORT = integer(0, 65_535, 'port');
const RATE_0_1 = decimal(0, 1, 'rate');

/** The config table, grouped as the config object is. */
export const CONFIG_SCHEMA = {
  target: {
    kind: field({
      env: 'VANA_TARGET',
      flag: '--target',
      description: 'Where flows run: `local` uses (or starts) the embedded local stack; `remote` uses the endpoints and contracts below (e.g. Moksha).',
      parser: oneOf(['local', 'remote']),
      default: 'local',
    }),
    preset: optionalField({
      env: 'VANA_PRESET',
      flag: '--preset',
      description: 'Named overrides applied on top of the defaults and below .env, environment and flags.',
      parser: oneOf(PRESET_NAMES),
    }),
  },
  chain: {
    rpcUrls: field({
      env: 'VANA_RPC_URLS',
      flag: '--rpc-urls',
      description: 'JSON-RPC endpoints, comma separated; requests are spread over them. Remote only: the local stack supplies its own.',
      parser: urlList(['http', 'https', 'ws', 'wss']),
      default: [],
      example: 'https://rpc.moksha.vana.org',
    }),
    chainId: field({
      env: 'VANA_CHAIN_ID',
      flag: '--chain-id',
      description: 'Chain id expected behind the RPC URLs (14800 = Moksha). Remote only. Known mainnets (1480, 1) are refused unless --allow-mainnet.',
      parser: integer(1, Number.MAX_SAFE_INTEGER),
      default: 14_800,
    }),
    blockTimeSeconds: field({
      env: 'VANA_BLOCK_TIME',
      flag: '--block-time',
      description: 'Seconds between blocks of the local anvil chain, fractions allowed; 0 = automine (one block per transaction, which can leave pipelined relays waiting).',
      parser: decimal(0, 3_600, 'seconds'),
      default: 0.2,
    }),
    maxFeePerGasWei: optionalField({
      env: 'VANA_MAX_FEE_PER_GAS',
      flag: '--max-fee-per-gas',
      description: 'Cap on maxFeePerGas of every transaction the harness sends (keys and direct relay, funding), in gwei. Unset = 2 × base fee + tip, uncapped. A base fee above the cap fails the relay as `underpriced` rather than paying more.',
      parser: gweiAmount('0.000000001', '100000'),
      example: '50',
    }),
    maxPriorityFeePerGasWei: optionalField({
      env: 'VANA_MAX_PRIORITY_FEE_PER_GAS',
      flag: '--max-priority-fee-per-gas',
      description: "Cap on maxPriorityFeePerGas (the tip) of the harness's transactions, in gwei. Unset = the node's eth_maxPriorityFeePerGas.",
      parser: gweiAmount('0', '10000'),
    }),
  },
  relay: {
    mode: field({
      env: 'VANA_RELAY',
      flag: '--relay',
      description:
        "How the user's signed permission reaches the chain. `api`: an app's relayer URL speaking the SDK's unified protocol (the local stack's /api/relay). `keys`: the harness relays itself with VANA_RELAYER_PRIVATE_KEYS on the run's RPC. `direct`: each user wallet submits and pays gas, so it must be funded.",
      parser: oneOf(['api', 'keys', 'direct']),
      default: 'api',
    }),
    url: optionalField({
      env: 'VANA_RELAYER_URL',
      flag: '--relayer-url',
      description: "The app's relayer endpoint (relay api, grant storage relayer). Unset = VANA_API_URL + /api/relay.",
      parser: url(),
      example: 'https://app.example.com/api/relay',
    }),
  },
  inference: {
    mode: field({
      env: 'VANA_INFERENCE',
      flag: '--inference',
      description:
        "How the inference is requested. `proxy`: the app's /api/trusted-server (the original load test's API). `personal-server`: the personal server's own /operations, signed with VANA_APP_PRIVATE_KEY, as the SDK's server controller calls it.",
      parser: oneOf(['proxy', 'personal-server']),
      default: 'proxy',
    }),
  },
  contracts: {
    permissionsAddress: optionalField({
      env: 'VANA_PERMISSIONS_ADDRESS',
      flag: '--permissions-address',
      description: 'DataPortabilityPermissions contract; the data registry, servers and grantees contracts are read from its views. Remote only.',
      parser: address(),
      example: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
    }),
    granteeId: optionalField({
      env: 'VANA_GRANTEE_ID',
      flag: '--grantee-id',
      description: "Grantee (app) id permissions are granted to. Remote only; unset = looked up from VANA_APP_PRIVATE_KEY's address (one of the two is required).",
      parser: uint256Id(),
    }),
    batchFunderAddress: optionalField({
      env: 'VANA_BATCH_FUNDER_ADDRESS',
      flag: '--batch-funder-address',
      description: 'BatchFunder contract (contracts/BatchFunder.sol) that funds many user wallets per transaction. Remote only: the local stack deploys its own.',
      parser: address(),
    }),
  },
  services: {
    apiUrl: optionalField({
      env: 'VANA_API_URL',
      flag: '--api-url',
      description: "The app's API (/api/relay, /api/trusted-server). Remote only, for relay api or inference proxy; the local target takes it from the stack manifest.",
      parser: url(),
      example: 'https://app.example.com',
    }),
    personalServerUrl: optionalField({
      env: 'VANA_PERSONAL_SERVER_URL',
      flag: '--personal-server-url',
      description: 'Personal-server API base URL (/identity and /operations are appended). Remote only.',
      parser: url(),
      example: 'https://test.server.vana.com/api/v1',
    }),
  },
  storage: {
    grantStorage: field({
      env: 'VANA_GRANT_STORAGE',
      flag: '--grant-storage',
      description: "Where the grant file goes. `storage`: the storage provider below, like the data file. `relayer`: the app's relayer, with the SDK's `direct` storeGrantFile operation.",
      parser: oneOf(['storage', 'relayer']),
      default: 'storage',
    }),
    provider: field({
      env: 'VANA_STORAGE_PROVIDER',
      flag: '--storage-provider',
      description: '`local`: the vana-load storage service. `s3`: any S3-compatible service (AWS, R2, GCS interop, MinIO), read through presigned URLs.',
      parser: oneOf(['local', 's3']),
      default: 'local',
    }),
    url: optionalField({
      env: 'VANA_STORAGE_URL',
      flag: '--storage-url',
      description: 'Base URL of a vana-load storage service (provider local, remote target; the local stack supplies its own).',
      parser: url(),
    }),
    s3Endpoint: optionalField({
      env: 'VANA_S3_ENDPOINT',
      flag: '--s3-endpoint',
      description: 'S3-compatible endpoint (R2, MinIO, GCS interop); unset = AWS S3 for the region.',
      parser: url(),
    }),
    s3Bucket: optionalField({
      env: 'VANA_S3_BUCKET',
      flag: '--s3-bucket',
      description: 'Bucket the encrypted files and grants are uploaded to (provider s3).',
      parser: text({
        expected: 'an S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens)',
        pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        valueName: 'bucket',
      }),
    }),
    s3ForcePathStyle: optionalField({
      env: 'VANA_S3_FORCE_PATH_STYLE',
      flag: '--s3-force-path-style',
      description: 'Path-style S3 addressing ({endpoint}/{bucket}/{key}), which MinIO and most self-hosted stores need; unset = on when VANA_S3_ENDPOINT is set, off for AWS.',
      parser: boolean(),
    }),
    s3Region: field({
      env: 'AWS_REGION',
      flag: '--s3-region',
      description: 'S3 region (R2 uses `auto`).',
      parser: text({ expected: 'a region name such as us-east-1 or auto', pattern: /^[a-z0-9-]{2,32}$/, valueName: 'region' }),
      default: 'us-east-1',
    }),
    s3AccessKeyId: optionalField({
      env: 'AWS_ACCESS_KEY_ID',
      flag: '--s3-access-key-id',
      description: 'S3 access key id (provider s3). Not a secret: it appears in every presigned URL.',
      parser: text({ expected: 'an access key id of 1-128 characters without spaces', pattern: /^\S{1,128}$/, valueName: 'id' }),
    }),
    s3SecretAccessKey: optionalField({
      env: 'AWS_SECRET_ACCESS_KEY',
      flag: '--s3-secret-access-key',
      description: 'S3 secret access key (provider s3).',
      parser: text({ expected: 'a secret access key of 1-256 characters without spaces', pattern: /^\S{1,256}$/, valueName: 'key' }),
      secret: true,
    }),
    s3PresignExpiryMs: field({
      env: 'VANA_S3_PRESIGN_EXPIRY',
      flag: '--s3-presign-expiry',
      description: 'Lifetime of presigned GET URLs; they must outlive the flow that hands them to the personal server.',
      parser: duration(1_000, 7 * 86_400_000),
      default: 3_600_000,
    }),
  },
  wallets: {
    mnemonic: optionalField({
      env: 'VANA_MNEMONIC',
      flag: '--mnemonic',
      description: "HD mnemonic the virtual users are derived from (m/44'/60'/0'/0/i). Unset = the wallet file's.",
      parser: mnemonic(),
      secret: true,
    }),
    funderPrivateKey: optionalField({
      env: 'VANA_FUNDER_PRIVATE_KEY',
      flag: '--funder-private-key',
      description: 'Key that funds user wallets and receives the sweep. The local stack uses a dev account.',
      parser: privateKey(),
      secret: true,
    }),
    relayerPrivateKeys: field({
      env: 'VANA_RELAYER_PRIVATE_KEYS',
      flag: '--relayer-private-keys',
      description: 'Relayer keys, comma separated, for relay mode keys: the harness relays with them on the run\'s RPC. Unset on the local target = 4 dev accounts funded by the stack.',
      parser: privateKeyList(),
      default: [],
      secret: true,
    }),
    appPrivateKey: optionalField({
      env: 'VANA_APP_PRIVATE_KEY',
      flag: '--app-private-key',
      description: "The app (grantee) key: signs personal-server operation requests (inference personal-server), and its address finds the grantee id when VANA_GRANTEE_ID is unset. Unset on the local target = the stack's app key.",
      parser: privateKey(),
      secret: true,
    }),
    walletFile: field({
      env: 'VANA_WALLET_FILE',
      flag: '--wallet-file',
      description: 'Wallet file written by the wallet manager (mode 0600, git-ignored).',
      parser: text({ expected: 'a file path', valueName: 'path' }),
      default: 'wallets/wallets.json',
    }),
    fundingAmountWei: field({
      env: 'VANA_FUNDING_AMOUNT',
      flag: '--funding-amount',
      description: 'Native tokens sent to each user wallet when funding (direct mode pays gas from it), in ether units.',
      parser: etherAmount('0', '1000'),
      default: 10_000_000_000_000_000n,
    }),
    maxSpendWei: field({
      env: 'VANA_MAX_SPEND',
      flag: '--max-spend',
      description: 'Funding refuses to send more than this in total, in ether units.',
      parser: etherAmount('0', '1000000'),
      default: 1_000_000_000_000_000_000n,
    }),
    allowMainnet: field({
      env: 'VANA_ALLOW_MAINNET',
      flag: '--allow-mainnet',
      description: 'Allow a known mainnet chain id (1480, 1). Off by default: a load test on mainnet spends real money.',
      parser: boolean(),
      default: false,
    }),
  },
  load: {
    model: field({
      env: 'VANA_LOAD_MODEL',
      flag: '--load-model',
      description: '`closed`: N users run flows back to back. `phased`: ramp-up, sustain, ramp-down of the arrival rate. `poisson`: open model at --rate.',
      parser: oneOf(['closed', 'phased', 'poisson']),
      default: 'closed',
    }),
    users: field({
      env: 'VANA_USERS',
      flag: '--users',
      description: 'Virtual users, i.e. HD wallet indices 0..users-1 that flows are assigned to.',
      parser: integer(1, 1_000_000),
      default: 10,
    }),
    concurrency: field({
      env: 'VANA_CONCURRENCY',
      flag: '--concurrency',
      description: 'Closed model: users running flows at the same time.',
      parser: integer(1, 100_000),
      default: 10,
    }),
    iterations: field({
      env: 'VANA_ITERATIONS',
      flag: '--iterations',
      description: 'Closed model: flows per user; 0 = repeat until --duration ends.',
      parser: integer(0, 1_000_000),
      default: 1,
    }),
    rate: field({
      env: 'VANA_RATE',
      flag: '--rate',
      description: 'Open models: arrivals per second (poisson mean, phased sustain level).',
      parser: decimal(0.001, 10_000, 'per-second'),
      default: 1,
    }),
    durationMs: field({
      env: 'VANA_DURATION',
      flag: '--duration',
      description: 'Poisson: how long arrivals are generated. Closed: upper bound on the run.',
      parser: duration(1_000, 7 * 86_400_000),
      default: 300_000,
    }),
    rampUpMs: field({
      env: 'VANA_RAMP_UP',
      flag: '--ramp-up',
      description: 'Phased: time to ramp from 0 to --rate.',
      parser: duration(0, 86_400_000),
      default: 60_000,
    }),
    sustainMs: field({
      env: 'VANA_SUSTAIN',
      flag: '--sustain',
      description: 'Phased: time held at --rate.',
      parser: duration(0, 7 * 86_400_000),
      default: 300_000,
    }),
    rampDownMs: field({
      env: 'VANA_RAMP_DOWN',
      flag: '--ramp-down',
      description: 'Phased: time to ramp from --rate back to 0.',
      parser: duration(0, 86_400_000),
      default: 60_000,
    }),
    maxInFlight: field({
      env: 'VANA_MAX_IN_FLIGHT',
      flag: '--max-in-flight',
      description: 'Open models: cap on flows in flight; arrivals beyond it are counted as dropped, never queued.',
      parser: integer(1, 100_000),
      default: 100,
    }),
    staggerStartMs: field({
      env: 'VANA_STAGGER_START',
      flag: '--stagger-start',
      description: "Closed model: spread the users' first flows evenly over this window; 0 = all at once.",
      parser: duration(0, 3_600_000),
      default: 0,
    }),
    seed: optionalField({
      env: 'VANA_SEED',
      flag: '--seed',
      description:
        'Seed of the random choices: Poisson arrivals, synthetic data per flow, retry jitter, the sim backend of a stack the run spawns. Same seed = same load, for `vana-load compare`; unset = random. Recorded in summary.json.',
      parser: integer(0, 4_294_967_295),
    }),
  },
  timeouts: {
    httpMs: field({
      env: 'VANA_HTTP_TIMEOUT',
      flag: '--http-timeout',
      description: 'Deadline of one HTTP request (storage, API, personal server).',
      parser: duration(100, 600_000),
      default: 30_000,
    }),
    confirmMs: field({
      env: 'VANA_CONFIRM_TIMEOUT',
      flag: '--confirm-timeout',
      description: 'Deadline for a transaction receipt after relay.',
      parser: duration(1_000, 3_600_000),
      default: 120_000,
    }),
    inferenceMs: field({
      env: 'VANA_INFERENCE_TIMEOUT',
      flag: '--inference-timeout',
      description: 'Deadline for polling an inference operation to completion.',
      parser: duration(1_000, 3_600_000),
      default: 180_000,
    }),
    pollIntervalMs: field({
      env: 'VANA_POLL_INTERVAL',
      flag: '--poll-interval',
      description: 'Interval between inference polls.',
      parser: duration(10, 60_000),
      default: 1_000,
    }),
    flowMs: field({
      env: 'VANA_FLOW_TIMEOUT',
      flag: '--flow-timeout',
      description: 'Deadline of one whole flow, all steps and retries included.',
      parser: duration(1_000, 7_200_000),
      default: 600_000,
    }),
    shutdownGraceMs: field({
      env: 'VANA_SHUTDOWN_GRACE',
      flag: '--shutdown-grace',
      description: 'On Ctrl-C, how long flows in flight may finish before they are aborted.',
      parser: duration(0, 600_000),
      default: 30_000,
    }),
  },
  retry: {
    maxAttempts: field({
      env: 'VANA_RETRY_MAX_ATTEMPTS',
      flag: '--retry-max-attempts',
      description: 'Attempts per retryable step, the first included; 1 = no retry.',
      parser: integer(1, 20),
      default: 3,
    }),
    baseDelayMs: field({
      env: 'VANA_RETRY_BASE_DELAY',
      flag: '--retry-base-delay',
      description: 'First backoff delay; doubles per attempt, with full jitter.',
      parser: duration(0, 60_000),
      default: 500,
    }),
    maxDelayMs: field({
      env: 'VANA_RETRY_MAX_DELAY',
      flag: '--retry-max-delay',
      description: 'Cap on one backoff delay (a Retry-After header may ask for more, up to this).',
      parser: duration(0, 600_000),
      default: 10_000,
    }),
  },
  breaker: {
    windowMs: field({
      env: 'VANA_BREAKER_WINDOW',
      flag: '--breaker-window',
      description: 'Rolling window the circuit breaker computes the failure rate over.',
      parser: duration(1_000, 3_600_000),
      default: 30_000,
    }),
    failureRateThreshold: field({
      env: 'VANA_BREAKER_FAILURE_RATE',
      flag: '--breaker-failure-rate',
      description: 'Failure rate in the window at which the breaker opens (stops new flows).',
      parser: decimal(0.01, 1, 'rate'),
      default: 0.5,
    }),
    minRequests: field({
      env: 'VANA_BREAKER_MIN_REQUESTS',
      flag: '--breaker-min-requests',
      description: 'Flows the window needs before the breaker may open, so one early failure does not.',
      parser: integer(1, 100_000),
      default: 20,
    }),
    halfOpenAfterMs: field({
      env: 'VANA_BREAKER_HALF_OPEN_AFTER',
      flag: '--breaker-half-open-after',
      description: 'Time an open breaker waits before letting one probe flow through.',
      parser: duration(100, 600_000),
      default: 10_000,
    }),
  },
  data: {
    size: field({
      env: 'VANA_DATA_SIZE',
      flag: '--data-size',
      description: 'Size class of the generated user data; `mixed` draws one per flow.',
      parser: oneOf(['small', 'medium', 'large', 'mixed']),
      default: 'small',
    }),
    prompt: field({
      env: 'VANA_PROMPT',
      flag: '--prompt',
      description: 'Inference prompt written into the grant; {{data}} marks where the decrypted data goes.',
      parser: text(),
      default: 'Summarize this data as JSON: {{data}}',
    }),
    s2kCountByte: optionalField({
      env: 'VANA_S2K_COUNT_BYTE',
      flag: '--s2k-count-byte',
      description:
        "OpenPGP S2K count byte of the user files (RFC 4880: 224 hashes 16 MiB per encrypt and per decrypt, 96 hashes 64 KiB). Unset = openpgp's default 224, as the Vana SDK; MS-05 and the capacity bench default to 96 (see their READMEs).",
      parser: integer(0, 255, 'byte'),
    }),
  },
  stack: {
    anvilPort: field({
      env: 'VANA_STACK_ANVIL_PORT',
      flag: '--anvil-port',
      description: 'Local stack: anvil JSON-RPC port; 0 = any free port.',
      parser: PORT,
      default: 8_545,
    }),
    apiPort: field({
      env: 'VANA_STACK_API_PORT',
      flag: '--api-port',
      description: 'Local stack: API server port; 0 = any free port.',
      parser: PORT,
      default: 3_001,
    }),
    storagePort: field({
      env: 'VANA_STACK_STORAGE_PORT',
      flag: '--storage-port',
      description: 'Local stack: storage service port; 0 = any free port.',
      parser: PORT,
      default: 3_002,
    }),
    personalServerPort: field({
      env: 'VANA_STACK_PERSONAL_SERVER_PORT',
      flag: '--personal-server-port',
      description: 'Local stack: personal server port; 0 = any free port.',
      parser: PORT,
      default: 3_003,
    }),
    blockGasLimit: field({
      env: 'VANA_STACK_BLOCK_GAS_LIMIT',
      flag: '--block-gas-limit',
      description: 'Local stack: block gas limit of the anvil chain. A first flow of a user costs ~1.26M gas; keep rate × block time × 1.26M under half of it, or the base fee rises block after block (EIP-1559).',
      parser: integer(30_000_000, 2_000_000_000),
      default: 100_000_000,
    }),
    stateRoot: field({
      env: 'VANA_STACK_STATE_ROOT',
      flag: '--state-root',
      description:
        "Local stack: let anvil compute each block's state root. Anvil 1.7.1 rebuilds the whole state trie per block (~1.5 µs per storage slot, ~38 slots per flow), so a long run slows its own chain down. Off: the chain is a fork of an empty anvil, whose blocks carry a zero state root at a flat cost.",
      parser: boolean(),
      default: false,
    }),
    chainId: field({
      env: 'VANA_STACK_CHAIN_ID',
      flag: '--stack-chain-id',
      description: 'Local stack: chain id of the anvil chain (14800 rehearses Moksha).',
      parser: integer(1, 4_294_967_295),
      default: 31_337,
    }),
    storage: field({
      env: 'VANA_STACK_STORAGE',
      flag: '--stack-storage',
      description: 'Local stack: where files go. `local`: the storage service. `s3`: a local S3-compatible server (SigV4 checked, presigned GET URLs), as a deployment on S3 or R2 serves them.',
      parser: oneOf(['local', 's3']),
      default: 'local',
    }),
    relayResponse: field({
      env: 'VANA_STACK_RELAY_RESPONSE',
      flag: '--relay-response',
      description: "Local stack: how /api/relay answers, as the SDK's handleRelayerOperation does: `submitted` (stateless) or `pending` + status_check (with an operation store).",
      parser: oneOf(['submitted', 'pending']),
      default: 'submitted',
    }),
    relayerPrivateKeys: field({
      env: 'VANA_STACK_RELAYER_PRIVATE_KEYS',
      flag: '--stack-relayer-private-keys',
      description: "Local stack: keys of the API server's relayers, as a deployment is given them. Unset = --relayers dev accounts. Funded by the local chain's deployer.",
      parser: privateKeyList(),
      default: [],
      secret: true,
    }),
    appPrivateKey: optionalField({
      env: 'VANA_STACK_APP_PRIVATE_KEY',
      flag: '--stack-app-private-key',
      description: "Local stack: the app (grantee) key the stack registers and signs operation requests with. Unset = a dev account.",
      parser: privateKey(),
      secret: true,
    }),
    forkUrl: optionalField({
      env: 'VANA_STACK_FORK_URL',
      flag: '--fork-url',
      description:
        "Local stack: fork this chain (anvil --fork-url) and use the contracts deployed there, found from VANA_PERMISSIONS_ADDRESS; set --stack-chain-id to the chain's id (14800 for Moksha). A rehearsal against real contracts with local servers.",
      parser: url(),
      secret: true,
    }),
    relayerCount: field({
      env: 'VANA_STACK_RELAYERS',
      flag: '--relayers',
      description: 'Local stack: relayer accounts in the API server pool.',
      parser: integer(1, 64),
      default: 4,
    }),
    maxUploadBytes: field({
      env: 'VANA_STACK_MAX_UPLOAD',
      flag: '--max-upload',
      description: 'Local stack: largest body the storage service accepts (larger ones get 413).',
      parser: size(1_024, 1_024 ** 3),
      default: 10 * 1_024 ** 2,
    }),
    rateLimit: field({
      env: 'VANA_STACK_RATE_LIMIT',
      flag: '--rate-limit',
      description: "Local stack: turn on the personal server's rate limits (429 + Retry-After), as the hosted one has.",
      parser: boolean(),
      default: false,
    }),
    inferenceBackend: field({
      env: 'VANA_INFERENCE_BACKEND',
      flag: '--inference-backend',
      description: 'Local stack: `sim` (deterministic, simulated latency and errors) or `openai` (any OpenAI-compatible endpoint).',
      parser: oneOf(['sim', 'openai']),
      default: 'sim',
    }),
    simLatencyP50Ms: field({
      env: 'VANA_SIM_LATENCY_P50',
      flag: '--sim-latency-p50',
      description: 'Sim backend: median inference latency (lognormal); 0 with p95 0 = none.',
      parser: duration(0, 600_000),
      default: 0,
    }),
    simLatencyP95Ms: field({
      env: 'VANA_SIM_LATENCY_P95',
      flag: '--sim-latency-p95',
      description: 'Sim backend: 95th-percentile inference latency; at least the median.',
      parser: duration(0, 600_000),
      default: 0,
    }),
    simFailureRate: field({
      env: 'VANA_SIM_FAILURE_RATE',
      flag: '--sim-failure-rate',
      description: 'Sim backend: share of operations that end `failed`.',
      parser: RATE_0_1,
      default: 0,
    }),
    sim429Rate: field({
      env: 'VANA_SIM_429_RATE',
      flag: '--sim-429-rate',
      description: 'Sim backend: share of operation requests answered 429 + Retry-After.',
      parser: RATE_0_1,
      default: 0,
    }),
    openaiBaseUrl: field({
      env: 'VANA_OPENAI_BASE_URL',
      flag: '--openai-base-url',
      description: 'OpenAI backend: endpoint base URL without /v1 (/v1/chat/completions is appended).',
      parser: url(),
      default: 'https://api.openai.com',
    }),
    openaiApiKey: optionalField({
      env: 'OPENAI_API_KEY',
      flag: '--openai-api-key',
      description: 'OpenAI backend: API key (unset for endpoints that need none).',
      parser: text({ expected: 'an API key of 1-512 characters without spaces', pattern: /^\S{1,512}$/, valueName: 'key' }),
      secret: true,
    }),
    openaiModel: field({
      env: 'VANA_OPENAI_MODEL',
      flag: '--openai-model',
      description: 'OpenAI backend: model name.',
      parser: text({ expected: 'a model name of 1-200 characters without spaces', pattern: /^\S{1,200}$/, valueName: 'model' }),
      default: 'gpt-4o-mini',
    }),
  },
  output: {
    resultsDir: field({
      env: 'VANA_RESULTS_DIR',
      flag: '--results-dir',
      description: 'Directory that receives results/<run-id>/.',
      parser: text({ expected: 'a directory path', valueName: 'dir' }),
      default: 'results',
    }),
    runId: optionalField({
      env: 'VANA_RUN_ID',
      flag: '--run-id',
      description: 'Name of the run directory; unset = derived from the start time.',
      parser: text({
        expected: 'a name of 1-100 characters: letters, digits, dots, underscores, hyphens (not starting with a dot)',
        pattern: /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/,
        valueName: 'id',
      }),
    }),
    prometheusPort: optionalField({
      env: 'VANA_PROMETHEUS_PORT',
      flag: '--prometheus-port',
      description: 'Serve live metrics for Prometheus on this port; unset = off.',
      parser: integer(1, 65_535, 'port'),
    }),
  },
  health: {
    check: field({
      env: 'VANA_HEALTH_CHECK',
      flag: '--health-check',
      description:
        'Judge the load generator itself: a run whose harness fell behind (the limits below) ends INVALID (exit 5), whatever its thresholds say. false (or --no-health-check) keeps the figures in summary.json and the report without judging.',
      parser: boolean(),
      default: true,
    }),
    schedulerLagP99Ms: field({
      env: 'VANA_MAX_SCHEDULER_LAG_P99',
      flag: '--max-scheduler-lag-p99',
      description: 'Generator health: 99th percentile of how late flows started against their plan (scheduler lag).',
      parser: duration(1, 3_600_000),
      default: DEFAULT_HEALTH_LIMITS.schedulerLagP99Ms,
    }),
    schedulerLagMaxMs: field({
      env: 'VANA_MAX_SCHEDULER_LAG',
      flag: '--max-scheduler-lag',
      description: 'Generator health: the latest any flow may start against its plan.',
      parser: duration(1, 3_600_000),
      default: DEFAULT_HEALTH_LIMITS.schedulerLagMaxMs,
    }),
    eventLoopLagP99Ms: field({
      env: 'VANA_MAX_EVENT_LOOP_LAG_P99',
      flag: '--max-event-loop-lag-p99',
      description: "Generator health: 99th percentile of the harness's event-loop lag (how late a 10 ms timer fires).",
      parser: duration(1, 3_600_000),
      default: DEFAULT_HEALTH_LIMITS.eventLoopLagP99Ms,
    }),
    eventLoopLagMaxMs: field({
      env: 'VANA_MAX_EVENT_LOOP_LAG',
      flag: '--max-event-loop-lag',
      description: "Generator health: the longest the harness's event loop may stall.",
      parser: duration(1, 3_600_000),
      default: DEFAULT_HEALTH_LIMITS.eventLoopLagMaxMs,
    }),
    harnessCpuPercent: field({
      env: 'VANA_MAX_HARNESS_CPU',
      flag: '--max-harness-cpu',
      description: `Generator health: harness CPU time over wall time, averaged over any ${HEALTH_CPU_WINDOW_S} s, in percent of one core.`,
      parser: percent(1, 6_400),
      default: DEFAULT_HEALTH_LIMITS.harnessCpuPercent,
    }),
    harnessFdsPercent: field({
      env: 'VANA_MAX_HARNESS_FDS',
      flag: '--max-harness-fds',
      description: "Generator health: the harness's open files and sockets, in percent of its open-files limit (ulimit -n).",
      parser: percent(1, 100),
      default: DEFAULT_HEALTH_LIMITS.harnessFdsPercent,
    }),
  },
  log: {
    level: field({
      env: 'VANA_LOG_LEVEL',
      flag: '--log-level',
      description: 'Log level of run.log and stderr.',
      parser: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      default: 'info',
    }),
  },
} satisfies Record<string, Record<string, FieldSpec<unknown>>>;

type ConfigSchema = typeof CONFIG_SCHEMA;

type FieldValue<F> = F extends FieldSpec<infer T, infer Optional> ? (Optional extends true ? T | undefined : T) : never;

/** The validated, typed configuration: one group per part of the harness. */
export type VanaLoadConfig = {
  readonly [G in keyof ConfigSchema]: { readonly [K in keyof ConfigSchema[G]]: FieldValue<ConfigSchema[G][K]> };
};

/** A config group name, e.g. `load`. */
export type ConfigGroup = keyof VanaLoadConfig;

/** A field's key path, e.g. `load.concurrency`. */
export type ConfigKey = { [G in ConfigGroup]: `${G}.${keyof VanaLoadConfig[G] & string}` }[ConfigGroup];

/** One row of the table, flattened. */
export interface ConfigField {
  readonly group: ConfigGroup;
  readonly name: string;
  readonly key: ConfigKey;
  readonly spec: FieldSpec<unknown>;
}

/** Every field, in table order. */
export const CONFIG_FIELDS: readonly ConfigField[] = Object.freeze(
  Object.entries(CONFIG_SCHEMA).flatMap(([group, fields]) =>
    Object.entries(fields).map(
      ([name, spec]): ConfigField => Object.freeze({ group: group as ConfigGroup, name, key: `${group}.${name}` as ConfigKey, spec }),
    ),
  ),
);

/** Looks a field up by key path. */
export function configField(key: ConfigKey): ConfigField {
  const found = CONFIG_FIELDS.find((f) => f.key === key);
  if (!found) throw new Error(`No config field ${key}`);
  return found;
}

/** How errors and docs name a field: `VANA_CONCURRENCY (--concurrency)`. */
export function fieldLabel(spec: Pick<FieldSpec<unknown>, 'env' | 'flag'>): string {
  return `${spec.env} (${spec.flag})`;
}
