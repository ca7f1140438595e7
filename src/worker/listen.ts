import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

/** Starts accepting on an inherited listener fd; every accepted connection goes to `onConnection`. */
export async function listenOnFd(
  fd: number,
  backlog: number,
  onConnection: (socket: Socket) => void,
): Promise<Server> {
  const server = createServer(onConnection);
  server.listen({ fd, backlog });
  await once(server, 'listening');
  return server;
}
