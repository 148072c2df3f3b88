import Koa from 'koa';
import { ServiceError } from '@temporalio/client';
import { problemMiddleware } from '../../../src/api/http/problem';
import { createLogger } from '../../../src/logging/logger';
import { listen, type RunningApp } from '../../support/http';

/** What a Temporal client error turns into: the gRPC status decides between "retry later" and a bug of ours. */
describe('problemMiddleware and Temporal errors', () => {
  let app: RunningApp;
  let thrown: unknown;
  const logLines: string[] = [];

  beforeAll(async () => {
    const koa = new Koa();
    koa.use(problemMiddleware(createLogger({}, { write: (line) => logLines.push(line) })));
    koa.use(() => {
      throw thrown;
    });
    app = await listen(koa);
  });

  afterAll(async () => {
    await app?.close();
  });

  const grpcError = (code: number, details: string) =>
    new ServiceError('Failed to start Workflow', {
      cause: Object.assign(new Error(details), { code, details }),
    });

  it.each([
    [1, 'Cancelled on client'],
    [4, 'Deadline exceeded after 5.001s'],
    [8, 'namespace rate limit exceeded'],
    [10, 'Workflow is busy'],
    [14, 'No connection established'],
  ])('gRPC status %i (%s) is a 503 with Retry-After', async (code, details) => {
    thrown = grpcError(code, details);
    const response = await fetch(`${app.baseUrl}/orders`, { method: 'POST' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ title: 'Service Unavailable' });
  });

  it('any other gRPC status is a 500, logged with the status code underneath', async () => {
    thrown = grpcError(3, 'invalid TaskQueue');
    const response = await fetch(`${app.baseUrl}/orders`, { method: 'POST' });
    expect(response.status).toBe(500);
    const logged = JSON.parse(logLines.at(-1)!) as Record<string, any>;
    expect(logged).toMatchObject({
      msg: 'request failed',
      error: { name: 'ServiceError', cause: { code: 3, message: 'invalid TaskQueue' } },
    });
  });
});
