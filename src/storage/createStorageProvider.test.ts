import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { ConfigError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { startS3Server, type S3Server } from '../servers/storage/s3Server.ts';
import { startStorageService, type StorageService } from '../servers/storage/storageService.ts';
import { createStorageProvider } from './createStorageProvider.ts';

describe('createStorageProvider', () => {
  let s3: S3Server;
  let service: StorageService;
  beforeAll(async () => {
    [s3, service] = await Promise.all([startS3Server({ bucket: 'factory', accessKeyId: 'FACTORY', secretAccessKey: 'factory-secret' }), startStorageService({ port: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([s3?.stop(), service?.stop()]);
  });

  it('builds the s3 provider from the S3 settings, path-style for an endpoint by default', async () => {
    const config = loadConfig({
      env: {
        VANA_STORAGE_PROVIDER: 's3',
        VANA_S3_ENDPOINT: s3.endpoint,
        VANA_S3_BUCKET: 'factory',
        AWS_ACCESS_KEY_ID: 'FACTORY',
        AWS_SECRET_ACCESS_KEY: 'factory-secret',
        VANA_S3_PRESIGN_EXPIRY: '2m',
      },
    });
    const storage = createStorageProvider(config, silentLogger());
    const { url } = await storage.upload(new Uint8Array([4, 2]), 'data_f.bin');
    expect(storage.kind).toBe('s3');
    expect(new URL(url).pathname).toBe('/factory/data_f.bin');
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
    expect(await storage.download(url)).toEqual(new Uint8Array([4, 2]));
  });

  it('builds the local provider on the storage URL given in place of VANA_STORAGE_URL', async () => {
    const storage = createStorageProvider(loadConfig({ env: {} }), silentLogger(), { storageUrl: service.url });
    const { url } = await storage.upload(new Uint8Array([1]), 'data_l.bin');
    expect([storage.kind, url.startsWith(`${service.url}/blobs/`)]).toEqual(['local', true]);
  });

  it('error: names the settings a provider lacks in a config built by hand', () => {
    const config = loadConfig({ env: {} });
    const s3Config = { ...config, storage: { ...config.storage, provider: 's3' as const, s3Bucket: 'b' } };
    expect(() => createStorageProvider(config, silentLogger())).toThrow(ConfigError);
    expect(() => createStorageProvider(config, silentLogger())).toThrow('storage provider local needs VANA_STORAGE_URL (--storage-url)');
    expect(() => createStorageProvider(s3Config, silentLogger())).toThrow(
      'storage provider s3 needs AWS_ACCESS_KEY_ID (--s3-access-key-id), AWS_SECRET_ACCESS_KEY (--s3-secret-access-key)',
    );
  });
});
