import { setupExtension } from './setup/setup-view.js';
import { builtinViews } from './views/index.js';
import type { ConsoleExtension } from './view.js';

/**
 * What the console registers at start, in order: the built-in views and palette commands, then
 * extensions (the guided setup adds its `setup` view and palette command here with one line).
 */
export const consoleExtensions: readonly ConsoleExtension[] = [builtinViews, setupExtension];
