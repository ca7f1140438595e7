/**
 * Signal handlers only enqueue; the arbiter loop dispatches. The names are Gunicorn's, lower-case in logs
 * (`Handling signal: hup`).
 */
export const masterSignals = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
] as const;
export type MasterSignal = (typeof masterSignals)[number];

export function installSignalHandlers(enqueue: (signal: MasterSignal) => void): () => void {
  const handlers = masterSignals.map((signal) => {
    const handler = () => enqueue(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
