#!/usr/bin/env node
// Runs the built CLI; `npm install` builds dist/ through the `prepare` script.
import { main } from '../dist/core/cli/main.js';
import { builtinPlugins } from '../dist/plugins/builtin.js';

process.exitCode = await main(process.argv, builtinPlugins);
