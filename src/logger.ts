import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are secrets wherever they appear in a log object. Loggers censor
 * them; the config module marks its secret fields with the same names.
 */
export const SECRET_FIELD_NAMES = [
  'privateKey',
  'private_key',
  'mnemonic',
  'seedPhrase',
  'apiKey',
  'api_key',
  'secretAccessKey',
  's3SecretAccessKey',
  'openaiApiKey',
  'funderPrivateKey',
  'relayerPrivateKeys',
  'appPrivateKey',
  'serverMnemonic',
  'walletMnemonic',
  'password',
  'encryptionKey',
  'authorization',
  'forkUrl',
] as const;

const redactPaths = SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

export interface CreateLoggerParameters {
  level?: LevelWithSilent;
  /** Where JSON lines go; defaults to stderr so stdout stays for the terminal reporter. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * Creates the pino logger used across vana-load, with secret fields censored.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.child({ module: 'relayer' }).info({ hash }, 'submitted');
 */
export function createLogger({ level = 'info', destination, base }: CreateLoggerParameters = {}): Logger {
  return pino(
    {
      level,
      base: base ?? null,
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: for tests and libraries called without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
