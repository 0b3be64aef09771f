import { createRequire } from 'node:module';
import type * as SmolTomlModule from 'smol-toml';

type SmolToml = typeof SmolTomlModule;

/**
 * smol-toml's parser and error, from its one-file CommonJS build: its ES module build is nine
 * modules, which took 12 ms to load against 5 ms here, on every command that reads a profile or
 * settings (all of them, `caracal run` included). Every importer shares this one instance.
 */
const toml = createRequire(import.meta.url)('smol-toml') as SmolToml;

export const parseToml: SmolToml['parse'] = toml.parse;
export const TomlError: SmolToml['TomlError'] = toml.TomlError;
