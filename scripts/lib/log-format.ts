import type { Readable } from 'node:stream';
import { forwardLines } from './process';

const COLORS = [36, 35, 33, 32, 34, 31];
const assigned = new Map<string, number>();
const atTerminal = process.stdout.isTTY;
const useColor = atTerminal && !process.env.NO_COLOR;

/**
 * A line logger for one process of the local stack: `api      | info request method=GET …`. Our services log
 * JSON lines; they are shown as level, message and key=value pairs so a person can read the interleaved output.
 */
export function prefixedLogger(name: string): (line: string) => void {
  const prefix = prefixOf(name);
  return (line) => process.stdout.write(`${prefix}${readable(line)}\n`);
}

/**
 * A child's output under its name. At a terminal, line by line through prefixedLogger. Into a file or a
 * pipe, its lines go on as written (JSON stays JSON for whatever parses it), a chunk at a time: relaying a
 * busy API's request lines one parse and one write each took a tenth of a core (BENCHMARKS.md, "Read path").
 */
export function forwardOutput(stream: Readable | null, name: string): void {
  if (!stream) return;
  if (atTerminal) {
    forwardLines(stream, prefixedLogger(name));
    return;
  }
  const prefix = prefixOf(name);
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const text = partial + chunk;
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      partial = text;
      return;
    }
    partial = text.slice(end + 1);
    process.stdout.write(`${prefix}${text.slice(0, end).replaceAll('\n', `\n${prefix}`)}\n`);
  });
  stream.on('end', () => {
    if (partial) process.stdout.write(`${prefix}${partial}\n`);
  });
}

function prefixOf(name: string): string {
  if (!assigned.has(name)) assigned.set(name, COLORS[assigned.size % COLORS.length]!);
  const label = name.padEnd(8);
  return useColor ? `\x1b[${assigned.get(name)}m${label}|\x1b[0m ` : `${label}| `;
}

export function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (typeof msg !== 'string') return line;
    const pairs = Object.entries(fields).map(
      ([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
    );
    return [typeof level === 'string' ? level : 'info', msg, ...pairs].join(' ');
  } catch {
    return line;
  }
}
