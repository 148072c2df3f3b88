import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Role, Settings } from './settings';

/** An answer of 400 or above, with its problem details. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
  ) {
    super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
  }
}

/** The API did not answer at all. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

export interface RequestOptions {
  role: Role;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string | number>;
  /** A JSON body, or a stream sent as it is read. */
  json?: unknown;
  stream?: Readable;
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
}

export interface ApiClient {
  readonly baseUrl: URL;
  /** The raw response, its body unread: for downloads. */
  send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage>;
  /** Any status; the body parsed as JSON when it is JSON, else as text. */
  call<T = unknown>(method: string, path: string, options: RequestOptions): Promise<JsonResponse<T>>;
  /** Like call, but an answer of 400 or above is thrown as an ApiError. */
  json<T = unknown>(method: string, path: string, options: RequestOptions): Promise<JsonResponse<T>>;
  close(): void;
}

/** A small client of the durapay HTTP API over node:http, so bodies stream both ways with backpressure. */
export function createApiClient(settings: Settings, options: { maxSockets?: number } = {}): ApiClient {
  const { baseUrl } = settings;
  const transport = baseUrl.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 8 });

  function urlOf(path: string, query: RequestOptions['query'] = {}): URL {
    const url = new URL(path.replace(/^\//, ''), baseUrl.href.endsWith('/') ? baseUrl : `${baseUrl.href}/`);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    return url;
  }

  function send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const url = urlOf(path, options.query);
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${settings.keyFor(options.role)}`,
      accept: 'application/json, application/problem+json, */*',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method, headers, agent }, (response) => {
        // The server may answer before the whole body is sent (413, 401): stop sending then.
        if ((response.statusCode ?? 0) >= 400) options.stream?.destroy();
        resolve(response);
      });
      request.on('error', (error) => reject(connectionError(error, baseUrl)));
      if (options.stream) {
        options.stream.on('error', (error) => request.destroy(error));
        options.stream.pipe(request);
      } else {
        request.end(body);
      }
    });
  }

  async function call<T>(method: string, path: string, options: RequestOptions): Promise<JsonResponse<T>> {
    const response = await send(method, path, options);
    return {
      status: response.statusCode ?? 0,
      headers: response.headers,
      body: (await readBody(response, baseUrl)) as T,
    };
  }

  return {
    baseUrl,
    send,
    call,
    async json<T>(method: string, path: string, options: RequestOptions) {
      const response = await call<T>(method, path, options);
      if (response.status >= 400) throw apiErrorOf(response);
      return response;
    },
    close: () => agent.destroy(),
  };
}

export function apiErrorOf(response: JsonResponse): ApiError {
  const problem = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as {
    title?: unknown;
    detail?: unknown;
  };
  const title =
    typeof problem.title === 'string' ? problem.title : (http.STATUS_CODES[response.status] ?? 'Error');
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof response.body === 'string' && response.body !== ''
        ? response.body.slice(0, 500)
        : undefined;
  return new ApiError(response.status, title, detail);
}

/** A response body, parsed when it is JSON; a response cut off before its end is an error, never a short body. */
export async function readBody(response: IncomingMessage, baseUrl: URL): Promise<unknown> {
  const text = await readText(response, baseUrl);
  return /json/.test(response.headers['content-type'] ?? '') && text !== ''
    ? (JSON.parse(text) as unknown)
    : text;
}

async function readText(response: IncomingMessage, baseUrl: URL): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  try {
    for await (const chunk of response) text += chunk as string;
  } catch (error) {
    throw connectionError(error as Error, baseUrl);
  }
  return text;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function connectionError(error: Error, baseUrl: URL): ConnectionError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNREACHABLE.has(code)) {
    return new ConnectionError(
      `cannot reach the durapay API at ${baseUrl.origin} (${code}); is it running? Set DURAPAY_URL to its address`,
    );
  }
  return new ConnectionError(`the connection to ${baseUrl.origin} failed: ${error.message}`);
}
