/**
 * s3rver (an S3-compatible server) for the tests, in a process of its own: node
 * --openssl-legacy-provider test/s3rver.mjs DIR BUCKET. Its listings' continuation tokens are
 * DES-encrypted, which Node's OpenSSL 3 offers only with the legacy provider, so a listing of more
 * than one page fails without it. Prints the address it listens on (127.0.0.1, a free port) as
 * one JSON line, then serves until it is ended.
 */
import process from 'node:process';
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const address = await new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] }).run();
process.stdout.write(`${JSON.stringify(address)}\n`);
