import type { Plugin } from '../core/plugin/types.js';
import { adminCliPlugin } from './admin-cli/index.js';
import { gatewayPlugin } from '../gateway/plugin.js';
import { kernelPlugin } from './kernel/index.js';
import { runtimesPlugin } from './runtimes/index.js';
import { internalHttpApiPlugin } from './scenario-internal-http-api/index.js';
import { thirdPartyProviderPlugin } from './scenario-third-party-provider/index.js';
import { jsonlSinkPlugin } from './sink-jsonl/index.js';
import { stdoutSinkPlugin } from './sink-stdout/index.js';
import { webhookSinkPlugin } from './sink-webhook/index.js';
import { consolePlugin } from '../tui/plugin.js';

/**
 * The built-in plugins, in load order. Each is cheap to import: heavy modules (fastify, undici,
 * blessed) load lazily inside command actions so `caracal run` starts fast.
 */
export const builtinPlugins: readonly Plugin[] = [
  kernelPlugin,
  gatewayPlugin,
  adminCliPlugin,
  internalHttpApiPlugin,
  thirdPartyProviderPlugin,
  runtimesPlugin,
  jsonlSinkPlugin,
  stdoutSinkPlugin,
  webhookSinkPlugin,
  consolePlugin,
];
