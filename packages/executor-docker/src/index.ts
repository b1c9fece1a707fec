// The front door of @tswarm/executor-docker: the Docker Engine implementation of the agent's
// Executor contract, and the naming/labelling rules other tools (the lab) select containers by.
export { DockerExecutor } from './docker-executor.js';
export type { DockerExecutorOptions } from './docker-executor.js';
export type { ContainerNetworking } from './container-config.js';
export { writeContainerFiles, containerResolvConf, CONTAINER_HOSTS } from './container-files.js';
export type { ContainerFiles } from './container-files.js';
export { DockerTaskController } from './docker-controller.js';
export {
  containerName, containerLabels, createOptions, graceSeconds,
  LABEL_TASK_ID, LABEL_SERVICE_ID, LABEL_SERVICE_NAME, LABEL_NODE_ID, LABEL_SLOT, LABEL_LAB, LAB_ENV,
} from './container-config.js';
export { LogDemuxer, frame } from './log-stream.js';
export type { LogLine } from './log-stream.js';
export { dockerMessage, engineAddress } from './docker-errors.js';
