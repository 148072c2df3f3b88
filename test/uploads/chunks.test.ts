import { ChunkAssigner, orderKeyOf } from '../../src/domain/uploads/chunks';
import { orderRow, paymentRow } from './helpers';

/** The chunk of each row, in file order. */
const chunksOf = (chunkRows: number, orderIds: string[]) => {
  const assigner = new ChunkAssigner(chunkRows);
  const chunks = orderIds.map((orderId, i) => assigner.chunkOf(paymentRow(i + 2, { order_id: orderId })));
  return { chunks, chunksTotal: assigner.chunksTotal };
};

describe('ChunkAssigner', () => {
  it('cuts a file of one-row orders into consecutive stretches of chunkRows rows', () => {
    expect(chunksOf(2, ['A', 'B', 'C', 'D', 'E'])).toEqual({ chunks: [0, 0, 1, 1, 2], chunksTotal: 3 });
  });

  it('never splits an order: a chunk takes no new order once full, but the rows of its orders still join it', () => {
    expect(chunksOf(2, ['A', 'A', 'A', 'B', 'B', 'C'])).toEqual({
      chunks: [0, 0, 0, 1, 1, 2],
      chunksTotal: 3,
    });
  });

  it('sends a later row of an order to the chunk of its first row, however far apart they are', () => {
    const { chunks } = chunksOf(2, ['A', 'B', 'C', 'D', 'E', 'A', 'C', 'F']);
    expect(chunks).toEqual([0, 0, 1, 1, 2, 0, 1, 2]);
  });

  it('tells ids apart by case, and keeps a row with an unreadable order id on its own', () => {
    expect(chunksOf(1, ['ord-1', 'ORD-1', 'ord-1']).chunks).toEqual([0, 1, 0]);
    const assigner = new ChunkAssigner(1);
    const blank = [orderRow(2, { order_id: '' }), orderRow(3, { order_id: '' })];
    expect(blank.map((row) => assigner.chunkOf(row))).toEqual([0, 1]);
    expect(orderKeyOf(blank[0]!)).not.toBe(orderKeyOf(blank[1]!));
  });

  it('keeps the payments of an XML order with an unreadable id with that order', () => {
    const assigner = new ChunkAssigner(1);
    const rows = [
      { ...orderRow(3, { order_id: 'bad id!' }), orderLine: 3 },
      { ...paymentRow(5, { order_id: 'bad id!' }), orderLine: 3, isPayment: true },
      orderRow(9, { order_id: 'B' }),
    ];
    expect(rows.map((row) => assigner.chunkOf(row))).toEqual([0, 0, 1]);
  });

  it('remembers every order of a large file, so a late row finds its chunk', () => {
    const orders = 100_000;
    const ids = Array.from({ length: orders }, (_, i) => `ORD-${i}`);
    const { chunks, chunksTotal } = chunksOf(2500, [...ids, 'ORD-7', `ORD-${orders - 1}`, 'NEW']);
    expect(chunks.slice(0, orders)).toEqual(ids.map((_, i) => Math.floor(i / 2500)));
    expect(chunks.slice(orders)).toEqual([0, 39, 40]);
    expect(chunksTotal).toBe(41);
  });

  it('has no chunk before the first row, and refuses a chunk size that is not a positive integer', () => {
    expect(new ChunkAssigner(10).chunksTotal).toBe(0);
    expect(() => new ChunkAssigner(0)).toThrow(RangeError);
    expect(() => new ChunkAssigner(2.5)).toThrow(RangeError);
  });
});
