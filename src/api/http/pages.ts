/**
 * Keyset pages of a list, newest first, shared by every list route: the `limit` and `cursor` query
 * parameters, the `nextCursor` answer, and the opaque cursor itself (a row's time and ID).
 */
import { isValidId } from '../../domain/ids';
import { z } from './zod';

/** Where a page ends: the last row's time and ID. */
export interface PagePosition {
  at: Date;
  id: string;
}

const LIMIT_RULE = 'must be a whole number from 1 to 100';

/** The query parameters of a page; spread into a route's strict query object. */
export const pageQuery = {
  limit: z
    .string({ error: LIMIT_RULE })
    .regex(/^\d{1,3}$/, { error: LIMIT_RULE })
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= 100, { error: LIMIT_RULE })
    .optional()
    .transform((limit) => limit ?? 20)
    .openapi({ type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Page size' }),
  cursor: z
    .string({ error: 'is not one this API returned' })
    .transform((text, ctx) => {
      const after = decodeCursor(text);
      if (after) return after;
      ctx.addIssue({ code: 'custom', message: 'is not one this API returned' });
      return z.NEVER;
    })
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page, as returned (opaque)' }),
};

/** The `nextCursor` field of a page's answer. */
export const nextCursorField = () =>
  z
    .string()
    .nullable()
    .openapi({ description: 'Pass as `cursor` for the next page; null when this page is not full' });

/** The cursor after `rows` when the page is full (there may be more), else null. */
export function nextCursor<R>(rows: R[], limit: number, position: (row: R) => PagePosition): string | null {
  const last = rows.at(-1);
  if (rows.length < limit || !last) return null;
  const { at, id } = position(last);
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** The position a cursor of this API names; undefined for anything else. */
export function decodeCursor(cursor: string): PagePosition | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (typeof id === 'string' && isValidId(id) && !Number.isNaN(date.getTime())) return { at: date, id };
  } catch {
    // not a cursor of ours
  }
  return undefined;
}
