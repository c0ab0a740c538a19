import { describe, expect, it } from 'vitest';
import { verifySigV4 } from './verifySigV4.ts';

// The worked examples of AWS's SigV4 documentation for S3 ("Authenticating Requests"): example
// key pair, bucket `examplebucket`, 24 May 2013.
const AWS_EXAMPLE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const HOST = { host: 'examplebucket.s3.amazonaws.com' };
const PRESIGNED =
  '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
const SIGNED_GET_HEADERS = {
  ...HOST,
  range: 'bytes=0-9',
  'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'x-amz-date': '20130524T000000Z',
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
};
const MAY_24_2013 = Date.UTC(2013, 4, 24);

describe('verifySigV4', () => {
  it("accepts AWS's documented presigned URL and signed GET", () => {
    expect(verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, AWS_EXAMPLE, MAY_24_2013 + 3_600_000)).toEqual({ kind: 'signed', form: 'query' });
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers: SIGNED_GET_HEADERS }, AWS_EXAMPLE, MAY_24_2013 + 60_000)).toEqual({ kind: 'signed', form: 'header' });
  });

  it('calls a request without any signature anonymous', () => {
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers: HOST }, AWS_EXAMPLE)).toEqual({ kind: 'anonymous' });
  });

  it('error: refuses a presigned URL after X-Amz-Date + X-Amz-Expires with AccessDenied "Request has expired"', () => {
    const day = 86_400_000;
    expect(verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, AWS_EXAMPLE, MAY_24_2013 + day)).toEqual({ kind: 'signed', form: 'query' });
    expect(verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, AWS_EXAMPLE, MAY_24_2013 + day + 1)).toEqual({
      kind: 'refused',
      refusal: {
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
        detail: { 'X-Amz-Expires': '86400', Expires: '2013-05-25T00:00:00Z', ServerTime: '2013-05-25T00:00:00Z' },
      },
    });
  });

  it('error: refuses what was altered or signed with another secret with SignatureDoesNotMatch', () => {
    const code = (result: ReturnType<typeof verifySigV4>): string => (result.kind === 'refused' ? result.refusal.code : result.kind);
    const now = MAY_24_2013 + 60_000;
    expect(
      [
        verifySigV4({ method: 'GET', url: PRESIGNED.replace('/test.txt', '/other.txt'), headers: HOST }, AWS_EXAMPLE, now),
        verifySigV4({ method: 'GET', url: PRESIGNED, headers: { host: 'otherbucket.s3.amazonaws.com' } }, AWS_EXAMPLE, now),
        verifySigV4({ method: 'PUT', url: PRESIGNED, headers: HOST }, AWS_EXAMPLE, now),
        verifySigV4({ method: 'GET', url: `${PRESIGNED}&extra=1`, headers: HOST }, AWS_EXAMPLE, now),
        verifySigV4({ method: 'GET', url: '/test.txt', headers: { ...SIGNED_GET_HEADERS, range: 'bytes=0-99' } }, AWS_EXAMPLE, now),
        verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, { ...AWS_EXAMPLE, secretAccessKey: 'another' }, now),
      ].map(code),
    ).toEqual(Array(6).fill('SignatureDoesNotMatch'));
  });

  it('error: refuses an unknown key id, a wrong region and a skewed clock as S3 does', () => {
    const refusal = (result: ReturnType<typeof verifySigV4>) => (result.kind === 'refused' ? [result.refusal.status, result.refusal.code] : [result.kind]);
    expect([
      refusal(verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, { ...AWS_EXAMPLE, accessKeyId: 'AKIAOTHER' }, MAY_24_2013)),
      refusal(verifySigV4({ method: 'GET', url: PRESIGNED, headers: HOST }, { ...AWS_EXAMPLE, region: 'eu-west-1' }, MAY_24_2013)),
      refusal(verifySigV4({ method: 'GET', url: '/test.txt', headers: SIGNED_GET_HEADERS }, AWS_EXAMPLE, MAY_24_2013 + 16 * 60_000)),
    ]).toEqual([
      [403, 'InvalidAccessKeyId'],
      [400, 'AuthorizationHeaderMalformed'],
      [403, 'RequestTimeTooSkewed'],
    ]);
  });
});
