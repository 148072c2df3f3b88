/**
 * One definition per route: its path, roles, request schemas and documented responses. The router
 * enforces the roles and hands the handler the parsed request; docs/openapi.ts documents the same object.
 */
import type { ResponseConfig, ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import type { Role } from '../auth/api-keys';
import { allowRoles } from '../auth/middleware';
import { problemFromZod, type RequestPart } from './validation';

type AnyObject = z.ZodObject;

export interface RequestSchemas {
  params?: AnyObject;
  /** A strict object refuses unknown parameters; a route without one does not read its query. */
  query?: AnyObject;
  /** Read by name (`ctx.get`), so other headers never reach the schema. */
  headers?: AnyObject;
  body?: z.ZodType;
}

export interface ApiRoute<S extends RequestSchemas = RequestSchemas> {
  method: 'get' | 'post' | 'options';
  /** In the router's form: `/orders/:orderId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: [string];
  /** Who may call it (403 otherwise); absent on the public routes that need no API key. */
  roles?: readonly Role[];
  /** Checks its callers itself (the codec server: a key or its session cookie), outside the rate limit. */
  authenticatesItself?: true;
  request: S;
  /** What the JSON body is called in messages: "order has unknown field colour". */
  bodyName?: string;
  /** A body the route reads itself (files, the codec's payloads): documented here, not parsed. */
  documentedBody?: ZodRequestBody;
  responses: Record<string, ResponseConfig | { $ref: string }>;
}

export function apiRoute<S extends RequestSchemas>(route: ApiRoute<S>): ApiRoute<S> {
  return route;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface ParsedRequest<S extends RequestSchemas> {
  params: Parsed<S['params']>;
  query: Parsed<S['query']>;
  headers: Parsed<S['headers']>;
  body: Parsed<S['body']>;
}

export type Handler<S extends RequestSchemas> = (
  ctx: Context,
  request: ParsedRequest<S>,
) => Promise<void> | void;

/** Registers the route: its roles first, then the request parsed part by part, then the handler. */
export function addRoute<S extends RequestSchemas>(
  router: Router,
  route: ApiRoute<S>,
  handler: Handler<S>,
): void {
  const { params, query, headers, body } = route.request;
  const parse: Middleware = (ctx) => {
    const request = {
      params: params && parsePart(params, ctx.params, 'params'),
      query: query && parsePart(query, ctx.query, 'query'),
      headers:
        headers &&
        parsePart(
          headers,
          Object.fromEntries(headerNames(headers).map((name) => [name, ctx.get(name) || undefined])),
          'headers',
        ),
      body: body && parsePart(body, ctx.request.body, { body: route.bodyName ?? 'body' }),
    } as ParsedRequest<S>;
    return handler(ctx, request);
  };
  const middleware = [...(route.roles ? [allowRoles(...route.roles)] : []), parse];
  router.register(route.path, [route.method.toUpperCase()], middleware);
}

function parsePart(schema: z.ZodType, value: unknown, part: RequestPart): unknown {
  const result = schema.safeParse(value);
  if (!result.success) throw problemFromZod(result.error, part);
  return result.data;
}

function headerNames(schema: AnyObject): string[] {
  return Object.keys(schema.shape);
}
