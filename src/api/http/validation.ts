/**
 * A refused request part as problem details: the field's path, then what to fix ("customer.email is not
 * an email address"). The messages themselves are written with the schemas; this module only names the
 * field. Path, query and header faults are 400; a body that parses but does not fit its schema is 422.
 */
import type { z } from 'zod';
import { Problem } from './problem';

/** A body is named in messages ("order has unknown field colour"); it is 422 unless `status` says otherwise. */
export type RequestPart = 'params' | 'query' | 'headers' | { body: string; status?: 400 };

export function problemFromZod(error: z.ZodError, part: RequestPart): Problem {
  // Unknown fields first: a misspelt field explains the missing one.
  const issue = error.issues.find((each) => each.code === 'unrecognized_keys') ?? error.issues[0]!;
  const body = typeof part === 'object' ? part.body : undefined;
  const subject = issue.path.length > 0 ? pathText(issue.path) : body;
  const detail =
    issue.code === 'unrecognized_keys'
      ? body === undefined
        ? `unknown query parameter ${issue.keys.join(', ')}`
        : `${subject} has unknown field ${issue.keys.join(', ')}`
      : subject === undefined
        ? issue.message
        : `${subject} ${issue.message}`;
  return body === undefined || (typeof part === 'object' && part.status === 400)
    ? new Problem(400, 'Bad Request', detail)
    : new Problem(422, 'Unprocessable Content', detail);
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index > 0 ? '.' : ''}${String(key)}`))
    .join('');
}
