import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { z as Z } from 'zod';

/** zod's `z` namespace, as schema builders receive it. */
export type Zod = typeof Z;

let loaded: Zod | undefined;

/**
 * zod, loaded on first use. It is about a hundred modules (70–150 ms of a CLI start here), and
 * most commands validate nothing with it; modules on the CLI's start-up path build their schemas
 * through `lazySchema`. It is loaded with require() of its ES module entry (synchronous in Node
 * ≥ 20.19), so it is the same instance an `import 'zod'` elsewhere in the process gets.
 */
export function zod(): Zod {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    loaded = (require(fileURLToPath(import.meta.resolve('zod'))) as { z: Zod }).z;
  }
  return loaded;
}

/** A schema (or anything built with zod) made on first use, then kept. */
export function lazySchema<T>(build: (z: Zod) => T): () => T {
  let built: T | undefined;
  return () => (built ??= build(zod()));
}
