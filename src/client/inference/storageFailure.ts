/**
 * A personal server that cannot read the flow's files from storage answers 500 FILE_ACCESS_ERROR
 * (PROTOCOL.md 9); the failure is the storage's, not the inference's. Named so: `STORAGE_URL_EXPIRED`
 * when a presigned URL outlived its expiry (class `http_4xx`, never retried: a retry reads the same
 * dead URL), else `STORAGE_UNREADABLE`, at the step that asked (`inference_submit`).
 */
import { VanaLoadError } from '../../errors.ts';
import { HttpError } from '../httpJson.ts';

const EXPIRED = /request has expired|expiredrequest|requestexpired|expiredtoken|url.{0,20}expired/i;

/** The error to throw instead of `err` when it is a personal server's FILE_ACCESS_ERROR; else `err`. */
export function asStorageFailure(err: unknown): unknown {
  const body = err instanceof HttpError ? (err.body ?? '') : '';
  if (!(err instanceof HttpError) || !body.includes('FILE_ACCESS_ERROR')) return err;
  const expired = EXPIRED.test(body);
  // The server's own sentence (FastAPI `detail.detail`, or the proxy's `error`), else the body.
  const said = /"detail":"((?:[^"\\]|\\.){1,400})"/.exec(body)?.[1] ?? /"error":"((?:[^"\\]|\\.){1,400})"/.exec(body)?.[1] ?? body.slice(0, 300);
  const detail = said.replace(/^personal server answered \d+: /, '').replace(/^FILE_ACCESS_ERROR: /, '');
  return new VanaLoadError(
    `${expired ? 'presigned URL expired before the personal server read it (raise VANA_S3_PRESIGN_EXPIRY)' : 'the personal server could not read the file from storage'}: ${detail}`,
    {
      code: expired ? 'STORAGE_URL_EXPIRED' : 'STORAGE_UNREADABLE',
      errorClass: expired ? 'http_4xx' : err.errorClass,
      step: err.step ?? 'inference_submit',
      cause: err,
    },
  );
}
