// The scheduler's front door: the pure placement core, its filters, and the constraint
// parser that the control API shares to refuse bad specs.
export {
  Constraint,
  ConstraintKey,
  parseConstraint,
  parseConstraints,
  constraintMatches,
  nodeMatchesConstraints,
} from './constraints.js';
export {
  Filter,
  BoundFilter,
  DEFAULT_FILTERS,
  readyFilter,
  availabilityFilter,
  memoryFilter,
  cpuFilter,
  constraintsFilter,
} from './filters.js';
export { formatBytes, formatCpus } from './format.js';
export { NodeInfo } from './node-info.js';
export { Pipeline } from './pipeline.js';
export { ScheduleInput, ScheduleResult, Assignment, Unschedulable, NO_SUITABLE_NODE, schedule } from './scheduler.js';
