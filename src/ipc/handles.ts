import type { Socket } from 'node:net';

/**
 * Stops a connection that arrived over IPC from reading. Node wraps a received handle in a Socket that
 * starts reading at once, and bytes read here would be lost when the handle moves on to another process;
 * a handle read-stopped in the same tick it arrived has read nothing. This is what `net.Socket`'s own
 * `pauseOnCreate` does, which `child_process` does not let a receiver ask for. `socket.pause()` would only
 * stop the stream, not the handle.
 */
export function holdReceivedSocket(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
  if (!handle) return;
  handle.reading = false;
  handle.readStop();
  (socket as { readableFlowing: boolean | null }).readableFlowing = false;
}
