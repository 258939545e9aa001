/**
 * remote: backups read where they lie, over HTTP(S), with nothing written to disk. The stage's
 * face; `httpBytes` takes any http(s) URL (a presigned S3 URL too) and gives a ByteSource.
 */
export { httpBytes } from './http.js';
export { backupName, isUrl, redactUrl } from './url.js';
export { checkEndpoint, endpointOption, isS3Url, openS3, parseS3Url, s3Folder, type S3Object, type S3Settings, type S3Store } from './s3.js';
