#!/usr/bin/env node
// Thin entry point of the tswarm node daemon; everything lives in packages/daemon.
require('../../packages/daemon/dist/src/index.js').main(process.argv.slice(2));
