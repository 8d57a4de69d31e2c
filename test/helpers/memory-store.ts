import type { RunStore } from '#lib/store';

/** A run store in memory: what the steps wrote, by key (as JSON, so nothing is shared by reference). */
export function memoryStore(initial: Record<string, unknown> = {}) {
  const objects = new Map<string, string>(Object.entries(initial).map(([k, v]) => [k, JSON.stringify(v)]));
  const store: RunStore = {
    putJson: async (key, value) => {
      objects.set(key, JSON.stringify(value));
    },
    getJson: async <T>(key: string) => {
      const text = objects.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
  };
  const read = <T>(key: string) => JSON.parse(objects.get(key) ?? 'null') as T;
  return { store, objects, read };
}
