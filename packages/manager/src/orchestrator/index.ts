// The orchestrators' front door: pure reconcilers for replicated and global services, the
// restart policy and the rolling updater. The manager's event loop feeds them store
// snapshots and the clock, and writes back what they decide. Slot internals (slot.ts)
// stay private; the predicates below are exported because the loop and the control API
// must classify tasks the same way the reconcilers do.
export {
  Actions,
  ReconcileOptions,
  DEFAULT_HISTORY_PER_SLOT,
  PENDING_MESSAGE,
  newTask,
  hasEnded,
  occupiesSlot,
  isSettled,
  nodeLost,
  isDirty,
} from './task.js';
export { RestartDecision, restartDecision } from './restart.js';
export { reconcileReplicated, replicasOf } from './replicated.js';
export { reconcileGlobal, globalTaskMayStay } from './global.js';
export {
  DEFAULT_UPDATE_CONFIG,
  DEFAULT_ROLLBACK_CONFIG,
  UpdateProgress,
  PlanUpdateInput,
  UpdateStep,
  planUpdate,
  rollbackService,
} from './update.js';
