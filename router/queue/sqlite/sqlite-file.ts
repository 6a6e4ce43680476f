// The queue file under the open connection. SQLite keeps working on a file that was deleted (unlinked)
// or replaced after it was opened, so every accept would be answered 202 and lost at the next start.
// The check is cheap (one stat, one 16-byte read) and runs on every health check and accept batch.
// The header is read through a descriptor kept open until after the connection closed: closing any
// descriptor of a file drops every POSIX lock this process holds on it, SQLite's included.

import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Every SQLite 3 database file starts with these 16 bytes. */
const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** The file a connection opened, to tell later whether the path still names it. */
export class SqliteFile {
  private readonly dev: number;
  private readonly ino: number;
  private fd: number | undefined;

  /** Call right after opening the database at `path`, so the identity is the opened file's; close() after the connection. */
  constructor(readonly path: string) {
    const opened = statSync(path);
    this.dev = opened.dev;
    this.ino = opened.ino;
    try {
      this.fd = openSync(path, 'r');
    } catch {
      this.fd = undefined; // corrupt() says why
    }
  }

  /** Close the descriptor; only once the database connections of this process on the file are closed. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Why the path no longer names the opened file, or undefined while it does. */
  gone(): string | undefined {
    const now = statSync(this.path, { throwIfNoEntry: false });
    if (now === undefined) return `database file ${this.path} was deleted`;
    if (now.dev !== this.dev || now.ino !== this.ino) return `database file ${this.path} was deleted or replaced`;
    return undefined;
  }

  /** Why the file is not an SQLite database any more (overwritten in place), or undefined. */
  corrupt(): string | undefined {
    const header = Buffer.alloc(HEADER.length);
    try {
      if (this.fd === undefined) throw new Error('it could not be opened');
      const read = readSync(this.fd, header, 0, header.length, 0);
      return read === header.length && header.equals(HEADER) ? undefined : `database file ${this.path} is corrupt (no SQLite header)`;
    } catch (err) {
      return `database file ${this.path} cannot be read: ${(err as Error).message}`;
    }
  }
}
