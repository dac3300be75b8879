// Binding the web server's port, with a readable reason when it can't.
import type http from 'node:http';

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
