import type { ConsoleExtension } from '../view.js';
import { homeView } from './home.js';

/** The built-in views and palette commands. */
export const builtinViews: ConsoleExtension = {
  views: [homeView],
  commands: [],
};
