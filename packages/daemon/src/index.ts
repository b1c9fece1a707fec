export { main, startDaemon, RunningDaemon } from './main.js';
export { parseDaemonArgs, DaemonConfig, ConfigError, DEFAULT_DATA_DIR, DEFAULT_DOCKER_HOST } from './config.js';
export { versionResponse } from './local-api.js';
