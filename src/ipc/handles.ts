import type { Socket } from 'node:net';

/**
 * Stops a connection that arrived over IPC from reading. Node wraps a received handle in a Socket that
 * starts reading at once, and bytes read here would be lost when the handle moves on to another process;
 * a handle read-stopped in the same tick it arrived has read nothing. This is what `net.Socket`'s own
 * `pauseOnCreate` does, which `child_process` does not let a receiver ask for. `socket.pause()` would only
 * stop the stream, not the handle.
 */
export function holdReceivedSocket(socket: Socket): void {
  const handle = handleOf(socket);
  if (!handle) return;
  handle.reading = false;
  handle.readStop();
  (socket as { readableFlowing: boolean | null }).readableFlowing = false;
}

/**
 * Starts a connection that is to be served reading: its stream flows, and its handle reads again if
 * holdReceivedSocket() stopped it. `resume()` alone does not restart such a handle: the stream still
 * waits for the read it asked for when it was created. node:http restarts it itself (on the socket's
 * 'resume'); a connection served by anything else would never read.
 */
export function startReading(socket: Socket): void {
  socket.resume();
  const handle = handleOf(socket);
  if (handle && !handle.reading) {
    handle.reading = true;
    handle.readStart();
  }
}

function handleOf(socket: Socket) {
  return (socket as unknown as { _handle?: { reading: boolean; readStart(): number; readStop(): number } })
    ._handle;
}
