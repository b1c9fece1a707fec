import { NodeState, Service, UpdateState } from '@tswarm/api';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError } from '../errors.js';
import { DEFAULT_MONITOR_MS } from '../flags/service-options.js';
import { renderProgress } from '../render/progress.js';

/** Docker polls the service, its tasks and the nodes this often while it draws progress. */
export const POLL_INTERVAL_MS = 200;

/**
 * Waits until `serviceRef` has converged, drawing progress in place on a terminal (nothing is
 * drawn otherwise, or with --quiet; the wait is the same, so scripts still see a failure as a
 * non-zero exit). Like Docker, convergence is confirmed only after the tasks have stayed
 * running for the update monitor period (default 5 s). Ends early with an error when the update
 * pauses or a slot failed and may not restart. Ctrl-C stops waiting, not the service.
 */
export async function waitForConvergence(c: Context, serviceRef: string, quiet: boolean): Promise<void> {
  const clients = c.clients();
  const draw = c.isTTY && !quiet;
  let drawn = 0;
  const show = (lines: string[]) => {
    if (!draw) return;
    // Back to the first line of the previous frame and erase below, then the new frame.
    c.out(`${drawn ? `\x1b[${drawn}A\x1b[J` : ''}${lines.map((l) => `${l}\n`).join('')}`);
    drawn = lines.length;
  };
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onSigint = () => {
    interrupted = true;
    wake?.();
  };
  process.once('SIGINT', onSigint);
  try {
    let rollback = false;
    let convergedAtMs: number | undefined;
    for (;;) {
      const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: serviceRef });
      if (!service) throw new CliError(`service ${serviceRef} not found`);
      rollback = checkUpdateStatus(service, rollback);
      const monitorMs = service.spec?.update?.monitorMs || DEFAULT_MONITOR_MS;
      const [{ tasks }, { nodes }] = await Promise.all([
        call(clients, clients.control.listTasks, clients.control, { serviceId: service.id, nodeId: '', includeHistory: true }),
        call(clients, clients.control.listNodes, clients.control, {}),
      ]);
      const activeNodes = new Set(nodes.filter((n) => n.status?.state !== NodeState.NODE_STATE_DOWN).map((n) => n.id));
      const frame = renderProgress({ service, tasks, activeNodes, rollback, columns: c.columns });
      if (frame.failure) {
        show(frame.lines);
        throw new CliError(frame.failure);
      }
      const now = Date.now();
      if (frame.converged) {
        convergedAtMs ??= now;
        const waitMs = monitorMs - (now - convergedAtMs);
        if (waitMs <= 0) {
          show([...frame.lines, 'verify: Service converged']);
          return;
        }
        show([...frame.lines, `verify: Waiting ${Math.floor(waitMs / 1000) + 1} seconds to verify that tasks are stable...`]);
      } else {
        show(convergedAtMs === undefined ? frame.lines : [...frame.lines, 'verify: Detected task failure']);
        convergedAtMs = undefined;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_INTERVAL_MS);
      });
      if (interrupted) {
        c.out(`Operation continuing in background.\nUse \`tswarm service ps ${service.spec?.name || service.id}\` to check progress.\n`);
        return;
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Follows the update state machine as Docker does; a paused update or rollback is an error. */
function checkUpdateStatus(service: Service, rollback: boolean): boolean {
  const u = service.updateStatus;
  switch (u?.state) {
    case UpdateState.UPDATE_STATE_UPDATING: return false;
    case UpdateState.UPDATE_STATE_PAUSED: throw new CliError(`service update paused: ${u.message}`);
    case UpdateState.UPDATE_STATE_ROLLBACK_STARTED:
    case UpdateState.UPDATE_STATE_ROLLBACK_COMPLETED: return true;
    case UpdateState.UPDATE_STATE_ROLLBACK_PAUSED: throw new CliError(`service rollback paused: ${u.message}`);
    default: return rollback;
  }
}
