import { readingOneAhead } from '../../src/api/exports/export-stream';

/** A source that records how far it has been pulled and whether it was closed. */
function source(items: number[], failAt?: number) {
  const seen = { pulled: 0, closed: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (const item of items) {
        seen.pulled++;
        await Promise.resolve();
        if (item === failAt) throw new Error(`item ${item} failed`);
        yield item;
      }
    } finally {
      seen.closed = true;
    }
  }
  return { iterator: generate(), seen };
}

describe('readingOneAhead', () => {
  it('yields every item in order, having asked for the next one while the caller holds the current', async () => {
    const { iterator, seen } = source([1, 2, 3]);
    const pulledWhileHolding: number[] = [];
    const items: number[] = [];
    for await (const item of readingOneAhead(iterator)) {
      await new Promise((resolve) => setImmediate(resolve));
      pulledWhileHolding.push(seen.pulled);
      items.push(item);
    }
    expect(items).toEqual([1, 2, 3]);
    expect(pulledWhileHolding).toEqual([2, 3, 3]);
    expect(seen.closed).toBe(true);
  });

  it('passes a failure of the source on at the item that failed, not before', async () => {
    const { iterator } = source([1, 2, 3], 2);
    const items: number[] = [];
    await expect(
      (async () => {
        for await (const item of readingOneAhead(iterator)) {
          // Give a failed read-ahead time to surface as an unhandled rejection, if it could.
          await new Promise((resolve) => setTimeout(resolve, 10));
          items.push(item);
        }
      })(),
    ).rejects.toThrow('item 2 failed');
    expect(items).toEqual([1]);
  });

  it('closes the source when the caller stops early, and reads nothing more', async () => {
    const { iterator, seen } = source([1, 2, 3, 4, 5]);
    for await (const item of readingOneAhead(iterator)) {
      if (item === 2) break;
    }
    expect(seen).toEqual({ pulled: 3, closed: true });
  });
});
