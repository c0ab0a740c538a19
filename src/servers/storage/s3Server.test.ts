import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { ConfigError, InfrastructureError } from '../../errors.ts';
import { startS3Server, type S3Server } from './s3Server.ts';

function clientFor(s3: S3Server, secretAccessKey = s3.secretAccessKey): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

describe('startS3Server', () => {
  it('starts with the bucket created, serves signed requests, and stops twice leaving no temporary directory', async () => {
    const s3 = await startS3Server({ bucket: 'vana-load' });
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
    expect([s3.bucket, s3.region, s3.accessKeyId, existsSync(s3.directory)]).toEqual(['vana-load', 'us-east-1', 'S3RVER', true]);
    const client = clientFor(s3);
    const head = await client.send(new HeadBucketCommand({ Bucket: 'vana-load' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    await client.send(new PutObjectCommand({ Bucket: 'vana-load', Key: 'a.bin', Body: new Uint8Array([1, 2, 3]) }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'vana-load', Key: 'a.bin' }), { expiresIn: 60 });
    expect(new Uint8Array(await (await fetch(url)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    client.destroy();

    await s3.stop();
    await s3.stop();
    expect(existsSync(s3.directory)).toBe(false);
    await expect(fetch(`${s3.endpoint}/vana-load/a.bin`)).rejects.toThrow('fetch failed');
  });

  it('keeps a directory it was given, objects included', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vana-load-s3-test-'));
    try {
      const s3 = await startS3Server({ bucket: 'kept', directory, accessKeyId: 'KEEPER', secretAccessKey: 'keeper-secret' });
      const client = clientFor(s3);
      await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k.bin', Body: new Uint8Array([9]) }));
      client.destroy();
      await s3.stop();
      expect(existsSync(directory)).toBe(true);
      expect((await readdir(join(directory, 'kept'))).some((file) => file.startsWith('k.bin'))).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('error: refuses anonymous requests, a wrong secret and an expired presigned URL as S3 does', async () => {
    const s3 = await startS3Server({ bucket: 'private', secretAccessKey: 'right-secret' });
    try {
      const client = clientFor(s3);
      await client.send(new PutObjectCommand({ Bucket: 'private', Key: 'p.bin', Body: new Uint8Array([1]) }));
      const expiring = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'private', Key: 'p.bin' }), { expiresIn: 1, signingDate: new Date(Date.now() - 2_000) });
      const wrong = clientFor(s3, 'wrong-secret');
      const wrongErr = await wrong.send(new PutObjectCommand({ Bucket: 'private', Key: 'q.bin', Body: new Uint8Array([1]) })).then(
        () => new Error('expected a refusal'),
        (e: Error) => e,
      );
      client.destroy();
      wrong.destroy();

      const anonymous = await fetch(`${s3.endpoint}/private/p.bin`);
      const expired = await fetch(expiring);
      expect([anonymous.status, await anonymous.text()]).toEqual([403, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>']);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Request has expired<\/Message><X-Amz-Expires>1<\/X-Amz-Expires>/);
      expect([wrongErr.name, (wrongErr as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode]).toEqual(['SignatureDoesNotMatch', 403]);
    } finally {
      await s3.stop();
    }
  });

  it('error: refuses a bad bucket name before creating anything, and a taken port with S3_SERVER_START_FAILED', async () => {
    await expect(startS3Server({ bucket: 'Bad_Bucket' })).rejects.toThrow(ConfigError);
    const first = await startS3Server({ bucket: 'first' });
    try {
      const err = await startS3Server({ bucket: 'second', port: first.port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as InfrastructureError).code).toBe('S3_SERVER_START_FAILED');
      expect((err as InfrastructureError).shortMessage).toBe(`cannot start the local S3 server on 127.0.0.1:${first.port}: listen EADDRINUSE: address already in use 127.0.0.1:${first.port}`);
    } finally {
      await first.stop();
    }
  });
});
