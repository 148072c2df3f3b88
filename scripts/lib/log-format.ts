const COLORS = [36, 35, 33, 32, 34, 31];
const assigned = new Map<string, number>();
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

/**
 * A line logger for one process of the local stack: `api      | info request method=GET …`. Our services log
 * JSON lines; they are shown as level, message and key=value pairs so a person can read the interleaved output.
 */
export function prefixedLogger(name: string): (line: string) => void {
  if (!assigned.has(name)) assigned.set(name, COLORS[assigned.size % COLORS.length]!);
  const label = name.padEnd(8);
  const prefix = useColor ? `\x1b[${assigned.get(name)}m${label}|\x1b[0m ` : `${label}| `;
  return (line) => process.stdout.write(`${prefix}${readable(line)}\n`);
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
