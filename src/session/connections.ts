/**
 * The connections of a many-backup session, reused from one backup to the
 * next: a new connection is a new PostgreSQL process that reads its catalogs
 * afresh (a few ms of both cores each, twice per backup, 730 times over a
 * year of nightly backups), where switching a kept one to another backup's
 * schema is one round trip.
 *
 * Each use starts clean: every setting an earlier use made (the loader's
 * client_encoding, a search_path, the query's time zone) is reset, and the
 * connection then sees the one schema it is handed for. A connection whose
 * use failed (a COPY cut off, a query refused) is closed, never kept.
 */
import type pg from 'pg';

export class Connections {
  private readonly idle: pg.Client[] = [];
  private closed = false;

  constructor(private readonly open: () => Promise<pg.Client>) {}

  /**
   * Run `fn` on a connection that sees `schema` only (and the system catalogs), with no
   * setting left from an earlier use; `create` makes the schema first.
   */
  async use<R>(schema: string, fn: (client: pg.Client) => Promise<R>, create = false): Promise<R> {
    const client = this.idle.pop() ?? (await this.open());
    let ok = false;
    try {
      // One message, one implicit transaction: if the schema cannot be set, nothing is reset either.
      await client.query(`RESET ALL; ${create ? `CREATE SCHEMA ${schema}; ` : ''}SET search_path TO ${schema}`);
      const result = await fn(client);
      ok = true;
      return result;
    } finally {
      if (ok && !this.closed) this.idle.push(client);
      else await client.end().catch(() => {});
    }
  }

  /** Close the idle connections; one still in use is closed when its use ends. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((c) => c.end().catch(() => {})));
  }
}
