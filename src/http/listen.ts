// The web server: made for the Express app, and its port bound with a readable reason when it can't.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/** Resolves once the port is bound; rejects with a readable reason (port taken, no permission). */
export function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const reason =
        err.code === 'EADDRINUSE'
          ? `port ${port} is already in use (another Porchlight or another program is listening there); stop it or set PORT` // i18n-exempt: a start-up error for the operator
          : err.code === 'EACCES'
            ? `no permission to listen on port ${port}; use a port above 1023 or set PORT` // i18n-exempt: a start-up error for the operator
            : `could not listen on port ${port}: ${err.message}`; // i18n-exempt: a start-up error for the operator
      reject(new Error(reason, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port);
  });
}

/**
 * The web server for an Express app, its requests and responses created with the
 * app's own prototypes. Express gives every request and response its prototype
 * as it starts (`Object.setPrototypeOf` in `app.handle`); done to an object that
 * already exists, that changes its hidden class on every request, and the
 * property lookups in Node's HTTP code and Express's then miss their caches
 * (V8's `LoadIC_Miss` and `StoreIC_Miss` were a quarter of a portal view's CPU
 * samples, issue 16). Made with that prototype from the start, Express's
 * `setPrototypeOf` finds it already set and changes nothing. Node's own
 * constructors do the rest, as for any request (the `IncomingMessage` and
 * `ServerResponse` options of `http.createServer`).
 */
export function createWebServer(app: Express): http.Server {
  function AppRequest(this: http.IncomingMessage, socket: Socket): void {
    Reflect.apply(http.IncomingMessage, this, [socket]);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: http.ServerResponse, req: http.IncomingMessage, options?: unknown): void {
    Reflect.apply(http.ServerResponse, this, [req, options]);
  }
  AppResponse.prototype = app.response;
  return http.createServer(
    {
      IncomingMessage: AppRequest as unknown as typeof http.IncomingMessage,
      ServerResponse: AppResponse as unknown as typeof http.ServerResponse,
    },
    app,
  );
}
