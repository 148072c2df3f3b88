/**
 * The bench's upload files, written to disk as they are generated (never held in memory): one order per row,
 * each COMPLETED with one COMPLETED card payment of its full amount, in the upload CSV and XML formats
 * (test/fixtures/uploads/orders-sample.*). Ids carry a prefix, unique per run and per file.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { CSV_HEADER } from '../../src/api/uploads/csv-rows';

/** Test card numbers that pass the Luhn check, one per brand the project knows well. */
const CARDS = ['4242424242424242', '5555555555554444', '378282246310005', '4000000000000002'];
const ROWS_PER_WRITE = 2000;
const CREATED_BASE = Date.UTC(2026, 2, 1);

export interface GeneratedOrder {
  orderId: string;
  amount: string;
  createdAt: string;
  email: string;
  paymentId: string;
  card: string;
}

export function generatedOrder(prefix: string, i: number): GeneratedOrder {
  const cents = 1000 + ((i * 7919) % 99_000);
  return {
    orderId: `${prefix}-${i}`,
    amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    createdAt: new Date(CREATED_BASE + (i % 86_400) * 1000).toISOString().replace('.000Z', 'Z'),
    email: `c${i}@example.com`,
    paymentId: `${prefix}-${i}-p1`,
    card: CARDS[i % CARDS.length]!,
  };
}

function csvLine(o: GeneratedOrder): string {
  return `${o.orderId},${o.amount},USD,COMPLETED,${o.createdAt},${o.email},${o.paymentId},${o.amount},COMPLETED,CARD,${o.card}\n`;
}

function xmlOrder(o: GeneratedOrder): string {
  return (
    `  <order id="${o.orderId}" amount="${o.amount}" currency="USD" status="COMPLETED" createdAt="${o.createdAt}">\n` +
    `    <customer email="${o.email}"/>\n` +
    `    <payment id="${o.paymentId}" amount="${o.amount}" status="COMPLETED" method="CARD" cardNumber="${o.card}"/>\n` +
    `  </order>\n`
  );
}

async function writeFile(file: string, head: string, rows: number, row: (i: number) => string, tail: string) {
  const out = fs.createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  await write(head);
  for (let start = 0; start < rows; start += ROWS_PER_WRITE) {
    let text = '';
    for (let i = start; i < Math.min(rows, start + ROWS_PER_WRITE); i++) text += row(i);
    await write(text);
  }
  out.end(tail);
  await Promise.race([once(out, 'finish'), failed]);
  return fs.statSync(file).size;
}

/** Writes `rows` orders as upload CSV; answers the file's size in bytes. */
export function writeCsv(file: string, prefix: string, rows: number): Promise<number> {
  return writeFile(file, `${CSV_HEADER}\n`, rows, (i) => csvLine(generatedOrder(prefix, i)), '');
}

/** Writes `rows` orders as upload XML; answers the file's size in bytes. */
export function writeXml(file: string, prefix: string, rows: number): Promise<number> {
  return writeFile(
    file,
    '<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n',
    rows,
    (i) => xmlOrder(generatedOrder(prefix, i)),
    '</orders>\n',
  );
}
