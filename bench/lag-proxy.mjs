/**
 * A TCP proxy on 127.0.0.1 that holds every piece of data `lag` ms before passing it on, each
 * way: a server `lag` * 2 ms of round trip away, as a backup in S3 or behind a URL is. Run as its
 * own process (the benchmark's timed runs block its own event loop): `node lag-proxy.mjs PORT LAG`
 * prints the port it listens on.
 */
import { connect, createServer } from 'node:net';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const [to, lag] = process.argv.slice(2).map(Number);
const server = createServer((client) => {
  const upstream = connect(to, '127.0.0.1');
  const delayed = (from, into) => {
    from.on('data', (d) => setTimeout(() => into.write(d), lag));
    from.on('end', () => setTimeout(() => into.end(), lag));
    from.on('error', () => into.destroy());
  };
  delayed(client, upstream);
  delayed(upstream, client);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
