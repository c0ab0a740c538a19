/**
 * MS-02: one complete data-portability flow, end to end, against the local stack (spawned if none
 * is running, stopped at the end) or a remote target (`--target remote`, endpoints from .env).
 *
 *   npx tsx milestones/ms-02/test-single-e2e.ts [--data-size medium] [--relay direct] [--target remote]
 */
import { runSingleFlowMilestone } from '../../src/milestones/ms02.ts';
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';

await runMilestoneMain(() => runSingleFlowMilestone(process.argv));
