import type { LiveSource } from '../../functions/use-cases/live-events';

/** A live source in memory: what `publish` sends reaches the subscribers of its channel; `listeners` counts those left. */
export function publishingSource(stored: Record<string, string>): LiveSource & { publish(channel: string, message: string): void; listeners(): number } {
  const listeners = new Map<string, Set<(message: string) => void>>();
  return {
    getHash: async () => stored,
    async subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return async () => void set.delete(listener);
    },
    publish: (channel, message) => listeners.get(channel)?.forEach((listener) => listener(message)),
    listeners: () => [...listeners.values()].reduce((total, set) => total + set.size, 0),
  };
}
