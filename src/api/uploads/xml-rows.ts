/**
 * Streaming XML upload reader: `<orders><order …><customer email/><payment …/>…</order></orders>` to
 * RawRows, one per <payment> (or one per <order> without payments), with the same column names as the
 * CSV format. A <payment> may carry cardNumber, or cardBrand and cardLast4 as an export writes them
 * (validation refuses both kinds on one payment). Values are taken as they are: exports never neutralise
 * formulas in XML, so there is nothing to undo.
 *
 * Safety: saxes never resolves external entities nor reads files, and any DOCTYPE is refused, so no
 * entity can be declared (external or exponential). Memory stays bounded: text is fed in slices, any
 * single construct (tag, text, comment, DOCTYPE) over MAX_CONSTRUCT_CHARS fails the file, nesting is
 * capped, and rows are buffered only within one order.
 */
import { SaxesParser } from 'saxes';
import { DomainError } from '../../domain/errors';
import {
  emptyFields,
  ORDER_COLUMNS,
  type RawColumn,
  type RawFields,
  type RawRow,
  type RowProblem,
  redactCardNumbers,
} from '../../domain/uploads/rows';
import { type ByteSource, decodeUtf8 } from './utf8-text';

/** How each element's attributes map onto import columns. */
export const XML_ATTRIBUTES = {
  order: new Map<string, RawColumn>([
    ['id', 'order_id'],
    ['amount', 'order_amount'],
    ['currency', 'currency'],
    ['status', 'order_status'],
    ['createdAt', 'created_at'],
  ]),
  customer: new Map<string, RawColumn>([['email', 'customer_email']]),
  payment: new Map<string, RawColumn>([
    ['id', 'payment_id'],
    ['amount', 'payment_amount'],
    ['status', 'payment_status'],
    ['method', 'payment_method'],
    ['cardNumber', 'card_number'],
    ['cardBrand', 'card_brand'],
    ['cardLast4', 'card_last4'],
  ]),
} as const;

const SLICE_CHARS = 64 * 1024;
const MAX_CONSTRUCT_CHARS = 1024 * 1024;
/** The format is 3 deep; unknown subtrees are skipped but may not nest without end. */
const MAX_DEPTH = 32;
/** Far beyond any real order; keeps one order's buffered rows bounded. */
export const MAX_PAYMENTS_PER_ORDER = 10_000;

const MAX_PROBLEMS_PER_ORDER = 100;

type ParserOptions = { xmlns: false; position: true };

interface OrderDraft {
  line: number;
  fields: RawFields;
  customerLine?: number;
  payments: RawRow[];
  dropped: number;
  problems: Array<{ line: number; problem: RowProblem }>;
}

export async function* readXmlRows(source: ByteSource): AsyncGenerator<RawRow> {
  const reader = new OrdersXmlReader();
  for await (const text of decodeUtf8(source)) {
    for (let start = 0; start < text.length;) {
      let end = Math.min(start + SLICE_CHARS, text.length);
      // Keep surrogate pairs whole within a slice.
      if (end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
      reader.write(text.slice(start, end));
      yield* reader.take();
      start = end;
    }
  }
  reader.close();
  yield* reader.take();
}

class OrdersXmlReader {
  private readonly parser = new SaxesParser<ParserOptions>({ xmlns: false, position: true });
  private readonly out: RawRow[] = [];
  /** Names of the open elements. */
  private readonly stack: string[] = [];
  /** Depth inside an element being skipped (unknown element), 0 when not skipping. */
  private skipping = 0;
  private order: OrderDraft | undefined;
  private tagLine = 1;
  private lastEventPosition = 0;
  private lastEventLine = 1;

  /**
   * Seven handlers at most: saxes stores each as a property it adds to the parser, and from the eighth V8
   * keeps the parser's properties in a dictionary, which more than doubled this reader's CPU per row (25
   * against 10.7 µs). Comments and processing instructions therefore have none; what lies between them and the
   * next element or text counts as one construct for MAX_CONSTRUCT_CHARS.
   */
  constructor() {
    const parser = this.parser;
    const seen = (): void => {
      this.lastEventPosition = parser.position;
      this.lastEventLine = parser.line;
    };
    parser.on('xmldecl', (decl) => {
      seen();
      if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== 'utf-8') {
        throw new DomainError(
          'UPLOAD_NOT_UTF8',
          `the XML declaration says encoding="${decl.encoding.slice(0, 40)}"; only UTF-8 files are accepted`,
        );
      }
    });
    parser.on('doctype', (doctype) => {
      // Reported where it starts: the event comes at its end.
      throw doctypeRefused(parser.line - (doctype.match(/\n/g)?.length ?? 0));
    });
    parser.on('opentagstart', () => {
      // The event comes on the character after the name: if that was a line break, the tag began a line earlier.
      this.tagLine = parser.column === 0 ? parser.line - 1 : parser.line;
    });
    parser.on('opentag', (tag) => {
      seen();
      this.openElement(tag.name, tag.attributes);
    });
    parser.on('closetag', (tag) => {
      seen();
      this.closeElement(tag.name);
    });
    parser.on('text', (text) => {
      seen();
      this.onText(text);
    });
    parser.on('cdata', (text) => {
      seen();
      this.onText(text);
    });
  }

  write(text: string): void {
    this.guard(() => this.parser.write(text));
    // Checked after each slice, so a construct is held in memory up to its limit plus one slice.
    if (this.parser.position - this.lastEventPosition > MAX_CONSTRUCT_CHARS) {
      throw new DomainError(
        'UPLOAD_XML_TOO_LARGE',
        `the XML construct (tag, text, comment or declaration) after line ${this.lastEventLine} is longer than ${MAX_CONSTRUCT_CHARS} characters`,
      );
    }
  }

  close(): void {
    this.guard(() => this.parser.close());
  }

  /** Rows completed so far, handed over once. */
  take(): RawRow[] {
    return this.out.splice(0, this.out.length);
  }

  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof DomainError || !(error instanceof Error)) throw error;
      // saxes reports "line:column: message".
      const match = /^(\d+):(\d+): (.*)$/s.exec(error.message);
      const detail = match ? `line ${match[1]}, column ${match[2]}: ${match[3]}` : error.message;
      throw new DomainError(
        'UPLOAD_XML_MALFORMED',
        `the file is not well-formed XML: ${redactCardNumbers(detail)}`,
      );
    }
  }

  private openElement(name: string, attributes: Record<string, string>): void {
    const depth = this.stack.length;
    this.stack.push(name);
    if (this.stack.length > MAX_DEPTH) {
      throw new DomainError(
        'UPLOAD_XML_STRUCTURE',
        `line ${this.tagLine}: elements are nested more than ${MAX_DEPTH} deep`,
      );
    }
    if (this.skipping > 0) {
      this.skipping++;
      return;
    }
    const line = this.tagLine;
    if (depth === 0) {
      // Attributes of the root (e.g. namespace declarations) carry no data.
      if (name !== 'orders') {
        throw new DomainError(
          'UPLOAD_XML_STRUCTURE',
          `line ${line}: the root element must be <orders>, not <${name.slice(0, 40)}>`,
        );
      }
    } else if (depth === 1 && name === 'order') {
      this.startOrder(line, attributes);
    } else if (depth === 2 && name === 'customer' && this.order) {
      this.customer(this.order, line, attributes);
    } else if (depth === 2 && name === 'payment' && this.order) {
      this.payment(this.order, line, attributes);
    } else {
      this.skipping = 1;
      const parent = this.stack[depth - 1] ?? '';
      const expected =
        depth === 1 ? '; expected <order>' : depth === 2 ? '; expected <customer> or <payment>' : '';
      this.problem(line, { field: 'row', reason: `unexpected element <${name}> in <${parent}>${expected}` });
    }
  }

  private closeElement(name: string): void {
    this.stack.pop();
    if (this.skipping > 0) {
      this.skipping--;
      return;
    }
    if (name === 'order' && this.stack.length === 1) this.finishOrder();
  }

  private onText(text: string): void {
    if (this.skipping > 0 || this.stack.length === 0 || /^\s*$/.test(text)) return;
    const parent = this.stack[this.stack.length - 1] ?? '';
    this.problem(this.parser.line, { field: 'row', reason: `unexpected text in <${parent}>` });
  }

  /** A problem inside an order rejects it; one outside any order is a row of its own. */
  private problem(line: number, problem: RowProblem): void {
    if (!this.order) this.out.push({ line, fields: emptyFields(), problems: [problem] });
    // One rejected order needs a few reasons, not an unbounded list of them.
    else if (this.order.problems.length < MAX_PROBLEMS_PER_ORDER) this.order.problems.push({ line, problem });
  }

  private startOrder(line: number, attributes: Record<string, string>): void {
    const fields = emptyFields();
    const problems = this.assign(fields, XML_ATTRIBUTES.order, 'order', attributes).map((problem) => ({
      line,
      problem,
    }));
    this.order = { line, fields, payments: [], dropped: 0, problems };
  }

  private customer(order: OrderDraft, line: number, attributes: Record<string, string>): void {
    if (order.customerLine !== undefined) {
      const reason = `<customer> repeats the one on line ${order.customerLine}`;
      this.problem(line, { field: 'customer_email', reason });
      return;
    }
    order.customerLine = line;
    for (const problem of this.assign(order.fields, XML_ATTRIBUTES.customer, 'customer', attributes)) {
      this.problem(line, problem);
    }
  }

  private payment(order: OrderDraft, line: number, attributes: Record<string, string>): void {
    if (order.payments.length >= MAX_PAYMENTS_PER_ORDER) {
      order.dropped++;
      return;
    }
    const fields = emptyFields();
    const problems = this.assign(fields, XML_ATTRIBUTES.payment, 'payment', attributes);
    order.payments.push({ line, fields, isPayment: true, ...(problems.length > 0 ? { problems } : {}) });
  }

  /** Copies known attributes into `fields`; unknown ones are problems (a typo must not pass as "absent"). */
  private assign(
    fields: RawFields,
    columns: ReadonlyMap<string, RawColumn>,
    element: string,
    attributes: Record<string, string>,
  ): RowProblem[] {
    const problems: RowProblem[] = [];
    for (const [name, value] of Object.entries(attributes)) {
      const column = columns.get(name);
      if (column) fields[column] = value;
      else
        problems.push({ field: 'row', reason: `unknown attribute "${name.slice(0, 40)}" on <${element}>` });
    }
    return problems;
  }

  private finishOrder(): void {
    const order = this.order;
    if (!order) return;
    this.order = undefined;
    const orderLine = order.line;
    const withOrder = (fields: RawFields): RawFields => {
      const merged = { ...fields };
      for (const column of ORDER_COLUMNS) merged[column] = order.fields[column];
      return merged;
    };
    const rows: RawRow[] = order.payments.map((payment) => ({
      ...payment,
      fields: withOrder(payment.fields),
      orderLine,
    }));
    if (rows.length === 0)
      rows.push({ line: orderLine, fields: withOrder(emptyFields()), orderLine, isPayment: false });
    if (order.dropped > 0) {
      order.problems.push({
        line: orderLine,
        problem: { field: 'row', reason: `the order has more than ${MAX_PAYMENTS_PER_ORDER} payments` },
      });
    }
    for (const { line, problem } of order.problems) {
      const fields = emptyFields();
      fields.order_id = order.fields.order_id;
      rows.push({ line, fields, orderLine, problems: [problem] });
    }
    this.out.push(...rows.sort((a, b) => a.line - b.line));
  }
}

function doctypeRefused(line: number): DomainError {
  return new DomainError(
    'UPLOAD_XML_DOCTYPE',
    `line ${line}: DOCTYPE declarations are not allowed (they can declare entities that read files or expand without bound); remove it`,
  );
}
