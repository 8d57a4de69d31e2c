#!/usr/bin/env node
'use strict';
// The CLI runs the TypeScript sources directly through tsx, so it works right after `npm ci`,
// with no build step (npm here runs no install scripts, so nothing may depend on one).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= process.argv.includes('--verbose') ? 'DEBUG' : 'SILENT';
require('tsx/cjs');
const { main } = require('../cli/main.ts');

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`hybridops: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
