import { describe, expect, it } from 'vitest';
import { blobNameProblem, errorClassOfStatus, redactUrl, storageRequestError, storageStatusError } from './StorageProvider.ts';

const RULE = 'Expected 1-200 characters of A-Z a-z 0-9 . _ - (not "." or "..")';

describe('blobNameProblem', () => {
  it('accepts names of letters, digits, dot, underscore and hyphen up to 200 characters', () => {
    expect(['data_0x1a.bin', 'grant-1.json', '...', 'a'.repeat(200)].map(blobNameProblem)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it.each([
    ['', `${RULE}, got an empty name`],
    ['..', `${RULE}, got ".."`],
    ['.', `${RULE}, got "."`],
    ['a/b', `${RULE}, got "a/b"`],
    ['a\\b', `${RULE}, got "a\\\\b"`],
    ['a%2Fb', `${RULE}, got "a%2Fb"`],
    ['a'.repeat(201), `${RULE}, got 201 characters`],
  ])('error: rejects %j', (name, problem) => {
    expect(blobNameProblem(name)).toBe(problem);
  });
});

describe('errorClassOfStatus', () => {
  it('maps 429 to rate_limited, other 4xx to http_4xx and 5xx to http_5xx', () => {
    expect([400, 404, 410, 413, 429, 500, 503].map(errorClassOfStatus)).toEqual([
      'http_4xx',
      'http_4xx',
      'http_4xx',
      'http_4xx',
      'rate_limited',
      'http_5xx',
      'http_5xx',
    ]);
  });
});

describe('storage errors', () => {
  it('leave the query of a presigned URL out of the message and target', () => {
    const url = 'https://bucket.s3.amazonaws.com/data.bin?X-Amz-Signature=abc&X-Amz-Credential=k';
    const err = storageStatusError({ operation: 'download', method: 'GET', url, status: 403 });
    expect([err.message, err.target, redactUrl('http://x/a')]).toEqual([
      'Download failed with status 403: GET https://bucket.s3.amazonaws.com/data.bin?…',
      'https://bucket.s3.amazonaws.com/data.bin?…',
      'http://x/a',
    ]);
  });

  it('class a TimeoutError as timeout and any other fetch failure as network', () => {
    const timeout = storageRequestError({ operation: 'upload', method: 'PUT', url: 'http://x/files/a', cause: new DOMException('t', 'TimeoutError'), timeoutMs: 5 });
    const reset = storageRequestError({
      operation: 'upload',
      method: 'PUT',
      url: 'http://x/files/a',
      cause: new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }),
    });
    expect([timeout.errorClass, timeout.message, reset.errorClass, reset.message]).toEqual([
      'timeout',
      'Upload timed out after 5 ms: PUT http://x/files/a',
      'network',
      'Upload failed (UND_ERR_SOCKET: other side closed): PUT http://x/files/a',
    ]);
  });
});
