/**
 * A connection dropped mid-body, for the tests of remote reads (URLs and S3): a TCP proxy of the
 * test's own between the client and the server.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy to `port` that cuts the connection once, after `after` bytes have come back from
 * the server (all connections counted): a connection dropped mid-body. TLS passes through it.
 */
export async function cuttingProxy(port: number, after: number): Promise<{ port: number; cuts: () => number; close: () => Promise<void> }> {
  let sent = 0;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => {
      if (cuts === 0 && sent + d.length > after) {
        cuts++;
        client.write(d.subarray(0, after - sent));
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += d.length;
      client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cuts: () => cuts,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
