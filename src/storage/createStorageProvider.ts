/**
 * Builds the storage provider the config asks for (`storage.provider`): `local`, a vana-load
 * storage service, or `s3`, any S3-compatible store.
 */
import type { Logger } from 'pino';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { createLocalStorageProvider } from './localStorageProvider.ts';
import { createS3StorageProvider } from './s3StorageProvider.ts';
import type { StorageProvider } from './StorageProvider.ts';

export interface CreateStorageProviderOptions {
  /** Base URL of the vana-load storage service for `local`, in place of `storage.url` (the local stack supplies its own). */
  storageUrl?: string;
}

/**
 * Creates the provider of `config.storage.provider`, with the HTTP timeout of `config.timeouts`.
 * Fails with a `ConfigError` naming the settings that provider needs and lacks (`loadConfig`
 * already checks them; this keeps a hand-built config honest too).
 *
 * @example
 * const storage = createStorageProvider(config, logger, { storageUrl: manifest.storageUrl });
 * const { url } = await storage.upload(bytes, 'data_1.bin', { step: 'upload_data' });
 */
export function createStorageProvider(
  config: Pick<VanaLoadConfig, 'storage' | 'timeouts'>,
  logger: Logger,
  { storageUrl }: CreateStorageProviderOptions = {},
): StorageProvider {
  const { storage, timeouts } = config;
  if (storage.provider === 'local') {
    const baseUrl = storageUrl ?? storage.url;
    if (baseUrl === undefined) throw new ConfigError('storage provider local needs VANA_STORAGE_URL (--storage-url)', { code: 'CONFIG_MISSING' });
    return createLocalStorageProvider({ baseUrl, timeoutMs: timeouts.httpMs, logger });
  }
  const { s3Bucket: bucket, s3AccessKeyId: accessKeyId, s3SecretAccessKey: secretAccessKey } = storage;
  if (bucket === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
    const missing = [
      bucket === undefined ? 'VANA_S3_BUCKET (--s3-bucket)' : undefined,
      accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID (--s3-access-key-id)' : undefined,
      secretAccessKey === undefined ? 'AWS_SECRET_ACCESS_KEY (--s3-secret-access-key)' : undefined,
    ].filter((name): name is string => name !== undefined);
    throw new ConfigError(`storage provider s3 needs ${missing.join(', ')}`, { code: 'CONFIG_MISSING' });
  }
  return createS3StorageProvider({
    ...(storage.s3Endpoint !== undefined ? { endpoint: storage.s3Endpoint } : {}),
    ...(storage.s3ForcePathStyle !== undefined ? { forcePathStyle: storage.s3ForcePathStyle } : {}),
    region: storage.s3Region,
    bucket,
    accessKeyId,
    secretAccessKey,
    presignExpiryMs: storage.s3PresignExpiryMs,
    timeoutMs: timeouts.httpMs,
    logger,
  });
}
