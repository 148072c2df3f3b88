import fs from 'node:fs';
import path from 'node:path';
import { readCsvRows } from '../../src/api/uploads/csv-rows';
import { CHUNKS_IN_FLIGHT, readRowsOnThread, type ReadRows } from '../../src/api/uploads/row-reader-thread';
import { readXmlRows } from '../../src/api/uploads/xml-rows';
import { stagedRowJson } from '../../src/db/uploads';
import { ChunkAssigner } from '../../src/domain/uploads/chunks';
import type { RawRow } from '../../src/domain/uploads/rows';
import { chunks, collect, FIXTURES, rejectionOf } from './helpers';

const CSV = fs.readFileSync(path.join(FIXTURES, 'orders-sample.csv'));
const XML = fs.readFileSync(path.join(FIXTURES, 'orders-sample.xml'));

const CHUNK_ROWS = 3;

/** Every row the thread read, flattened, as (chunk, line, staged JSON). */
async function readOnThread(format: 'csv' | 'xml', body: AsyncIterable<Uint8Array>) {
  const batches = await collect(readRowsOnThread(format, body, CHUNK_ROWS));
  return batches.flatMap(({ chunks, lines, json }) => json.map((text, i) => [chunks[i], lines[i], text]));
}

/** What the main thread staged before: the same readers, chunks and JSON, on the calling thread. */
async function readInline(rows: AsyncIterable<RawRow>) {
  const read: [number, number, string][] = [];
  const assigner = new ChunkAssigner(CHUNK_ROWS);
  let rowNo = 0;
  for await (const row of rows) {
    const chunk = assigner.chunkOf(row);
    read.push([chunk, row.line, stagedRowJson({ row, rowNo: rowNo++, chunk })]);
  }
  return read;
}

/** The parts as a request body delivers them: one at a time, each on a later turn. */
async function* from(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await Promise.resolve();
    yield part;
  }
}

describe('readRowsOnThread', () => {
  it('stages the sample CSV as the calling thread would: same rows, order, chunks, lines and JSON', async () => {
    const expected = await readInline(readCsvRows(chunks(CSV, 97)));
    expect(expected.length).toBeGreaterThan(5);
    expect(await readOnThread('csv', from(chunks(CSV, 97)))).toEqual(expected);
  });

  it('stages the sample XML as the calling thread would', async () => {
    const expected = await readInline(readXmlRows(chunks(XML, 61)));
    expect(expected.length).toBeGreaterThan(5);
    expect(await readOnThread('xml', from(chunks(XML, 61)))).toEqual(expected);
  });

  it('keeps file order across many batches of a large file', async () => {
    const header = CSV.toString('utf8').split('\n')[0];
    const lines = Array.from(
      { length: 3000 },
      (_, i) => `ORD-T${i},10.00,USD,PENDING,2026-03-01T09:15:00Z,t${i}@example.com,,,,,`,
    );
    const file = Buffer.from([header, ...lines, ''].join('\n'), 'utf8');
    const read = await readOnThread('csv', from(chunks(file, 4096)));
    expect(read.map(([, line]) => line)).toEqual(lines.map((_, i) => i + 2));
    // One order per row: chunks are consecutive stretches of CHUNK_ROWS rows.
    expect(read.map(([chunk]) => chunk)).toEqual(lines.map((_, i) => Math.floor(i / CHUNK_ROWS)));
    expect(read.map(([, , json]) => JSON.parse(json as string)[2].fields.order_id)).toEqual(
      lines.map((_, i) => `ORD-T${i}`),
    );
  });

  it('answers a file-level fault found on the thread with the same DomainError as the calling thread', async () => {
    const doctype = Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE orders [<!ENTITY x "y">]>\n<orders/>\n');
    const inline = await rejectionOf(collect(readXmlRows([doctype])));
    expect(inline.code).toBe('UPLOAD_XML_DOCTYPE');
    expect(await rejectionOf(collect(readRowsOnThread('xml', from([doctype]), CHUNK_ROWS)))).toEqual(inline);

    const notUtf8 = Buffer.from([0xff, 0xfe, 0x41, 0x00]);
    const csvInline = await rejectionOf(collect(readCsvRows([notUtf8])));
    expect(await rejectionOf(collect(readRowsOnThread('csv', from([notUtf8]), CHUNK_ROWS)))).toEqual(
      csvInline,
    );
  });

  it('passes on a fault of the body itself unchanged', async () => {
    const tooLarge = new Error('the file is larger than the limit');
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* from([CSV.subarray(0, 200)]);
      throw tooLarge;
    }
    await expect(collect(readRowsOnThread('csv', body(), CHUNK_ROWS))).rejects.toBe(tooLarge);
  });

  it('reads the body no further ahead than the thread may hold while the caller does not take rows', async () => {
    const header = CSV.toString('utf8').split('\n')[0];
    const row = (i: number) => `ORD-B${i},10.00,USD,PENDING,2026-03-01T09:15:00Z,,,,,,\n`;
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* from([Buffer.from(`${header}\n`)]);
      for (let i = 0; i < 10_000; i++) {
        pulled += 1;
        yield* from([Buffer.from(row(i))]);
      }
    }
    const reader = readRowsOnThread('csv', body(), CHUNK_ROWS);
    const first = (await reader.next()).value as ReadRows;
    expect(first.json.length).toBeGreaterThan(0);
    // The caller holds on to its first batch; whatever the thread does meanwhile, the body waits for it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Those it holds, and the one waiting for a credit: not the ten thousand the body has.
    expect(pulled).toBeLessThanOrEqual(CHUNKS_IN_FLIGHT + 2);
    await reader.return(undefined);

    let rows = 0;
    for await (const batch of readRowsOnThread(
      'csv',
      from([Buffer.from(`${header}\n${row(1)}${row(2)}`)]),
      CHUNK_ROWS,
    )) {
      rows += batch.json.length;
    }
    expect(rows).toBe(2);
  });
});
