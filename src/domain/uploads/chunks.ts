/**
 * Which chunk of an upload each row belongs to. A chunk is imported in one transaction, so it must hold every
 * row of each of its orders, wherever those rows are in the file. Pure and workflow-safe.
 */
import { orderBucket } from './group-orders';
import { readableOrderId, type RawRow } from './rows';

/** What keeps an order's rows together; a row whose order id is unreadable stands alone (it is rejected anyway). */
export function orderKeyOf(row: RawRow): string {
  const orderId = readableOrderId(row.fields.order_id);
  return orderId === undefined ? `line:${row.orderLine ?? row.line}` : `id:${orderId}`;
}

/**
 * Assigns rows to chunks in file order: an order joins the chunk that is open when its first row arrives, and a
 * chunk takes no new order once it holds `chunkRows` rows. Later rows of an order join its chunk, however far
 * apart they are. So chunks are stretches of the file, and a file sorted by order id is written in the keys'
 * order, a few narrow ranges of each primary key at a time (orders hashed to chunks spread each chunk's
 * INSERTs over the whole key: about twice MariaDB's CPU per row at a million rows, BENCHMARKS.md).
 *
 * Orders are remembered by a 30-bit hash of their key; two orders with the same hash share a chunk, which
 * keeps every order whole.
 */
export class ChunkAssigner {
  private readonly chunkOfOrder = new OrderChunks();
  private openChunk = -1;
  private rowsInOpenChunk = 0;

  constructor(private readonly chunkRows: number) {
    if (!Number.isInteger(chunkRows) || chunkRows < 1)
      throw new RangeError('chunkRows must be a positive integer');
  }

  /** The chunk of the file's next row. */
  chunkOf(row: RawRow): number {
    const hash = orderBucket(orderKeyOf(row), 2 ** 30);
    let chunk = this.chunkOfOrder.get(hash);
    if (chunk === undefined) {
      if (this.openChunk < 0 || this.rowsInOpenChunk >= this.chunkRows) {
        this.openChunk += 1;
        this.rowsInOpenChunk = 0;
      }
      chunk = this.openChunk;
      this.chunkOfOrder.set(hash, chunk);
    }
    if (chunk === this.openChunk) this.rowsInOpenChunk += 1;
    return chunk;
  }

  /** Chunks assigned so far: 0 before the first row. */
  get chunksTotal(): number {
    return this.openChunk + 1;
  }
}

/**
 * Order hash → chunk, in two typed arrays (open addressing, at most half full): 8–16 bytes per order outside the
 * JS heap. A `Map` held the same in about 28 bytes per order on the heap, and the API's peak RSS during a
 * million-row upload rose from 370 to 489 MiB with it (bench:bulk, 2026-12-04), near the 512 MiB bound.
 */
class OrderChunks {
  /** hash + 1, so that 0 marks a free place. */
  private keys = new Int32Array(1 << 16);
  private chunks = new Int32Array(1 << 16);
  private size = 0;

  get(hash: number): number | undefined {
    const place = this.placeOf(hash);
    return this.keys[place] === 0 ? undefined : this.chunks[place];
  }

  set(hash: number, chunk: number): void {
    if (2 * (this.size + 1) > this.keys.length) this.grow();
    const place = this.placeOf(hash);
    if (this.keys[place] === 0) this.size += 1;
    this.keys[place] = hash + 1;
    this.chunks[place] = chunk;
  }

  /** The place of `hash`, or the free place where it would go (linear probing). */
  private placeOf(hash: number): number {
    const mask = this.keys.length - 1;
    let place = Math.imul(hash, 0x9e3779b1) & mask;
    while (this.keys[place] !== 0 && this.keys[place] !== hash + 1) place = (place + 1) & mask;
    return place;
  }

  private grow(): void {
    const { keys, chunks } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.chunks = new Int32Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]! - 1, chunks[i]!);
  }
}
