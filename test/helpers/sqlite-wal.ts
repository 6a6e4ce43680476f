// Transactions counted from the WAL file itself: each commit ends with a frame whose "database size" field
// is set (sqlite's WAL format), so the commit frames written since a checkpoint are the transactions.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Commit frames in the WAL file: the transactions written since the last checkpoint reset it. */
export function commitsInWal(path: string): number {
  let wal: Buffer;
  try { wal = readFileSync(`${path}-wal`); } catch { return 0; }
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    // A frame belongs to this WAL generation only while its salts match the header's (older frames stay in the file).
    if (wal.readUInt32BE(at + 8) !== salt[0] || wal.readUInt32BE(at + 12) !== salt[1]) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

/** Checkpoint and restart the WAL from another connection: the commit count starts from 0. */
export function resetWal(path: string): void {
  const db = new Database(path);
  try { db.pragma('wal_checkpoint(TRUNCATE)'); } finally { db.close(); }
}
