export { run, main, buildProgram, Io } from './main.js';
export { renderInfo } from './commands/system.js';
export { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
