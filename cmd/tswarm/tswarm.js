#!/usr/bin/env node
// Thin entry point of the tswarm CLI; everything lives in packages/cli.
require('../../packages/cli/dist/src/index.js').main();
