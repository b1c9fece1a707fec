export { run, main, buildProgram, Io } from './main.js';
export { renderInfo } from './commands/system.js';
export { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
// Pure pieces (flags → values, objects → lines), exported for tests and for other front ends.
export { BadValue, parseEnv, shellSplit } from './flags/parse.js';
export { parseBytes, parseNanoCpus } from './flags/bytes.js';
export { parseConstraint } from './flags/constraints.js';
export { formatDurationMs, parseDurationMs } from './flags/duration.js';
export { formatPort, parsePublish } from './flags/ports.js';
export { renderProgress, ProgressFrame, ProgressInput } from './render/progress.js';
export { renderTaskList, PsOptions } from './render/tasks.js';
export { renderServiceList } from './render/services.js';
export { renderNodeList } from './render/nodes.js';
export { renderNetworkList, inspectNetwork } from './render/networks.js';
