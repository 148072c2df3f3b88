/**
 * A request refused before its body was read (auth, media type, size, a bad file) is answered once the rest
 * of its body has arrived, up to a bound. Answering while the client still sends, then closing, makes the
 * client's socket meet a reset: Node's fetch (undici) reports ECONNRESET instead of the answer. Past the
 * bound the answer carries `Connection: close`, so a client stops sending a body that will not be read.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

/** The most of an unread body read and discarded to keep the connection. */
export const DRAIN_BYTES = 8 * 1024 * 1024;

/** Reads what is left of a body the request's handling did not read; past `maxBytes` the connection closes. */
export async function drainUnreadBody(ctx: Context, maxBytes: number = DRAIN_BYTES): Promise<void> {
  const { req } = ctx;
  if (req.complete || req.destroyed) return;
  if (!(await drain(req, maxBytes))) ctx.set('Connection', 'close');
}

/** True once the body has ended within `maxBytes`; false past them or if the client went away. */
function drain(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  // A reader that gave up (a multipart parser) lets go of the body first.
  req.unpipe();
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (drained: boolean) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      if (!drained) req.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(false);
    req.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onClose);
    req.resume();
  });
}
