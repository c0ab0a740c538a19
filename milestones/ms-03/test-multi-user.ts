/**
 * MS-03: multi-user validation. N users run the full flow concurrently against the local stack
 * (spawned if none is running, stopped at the end) or a remote target; exits 0 when the seed's
 * success criteria hold, 1 when one fails (see milestones/ms-03/README.md).
 *
 *   npx tsx milestones/ms-03/test-multi-user.ts --concurrent 25 [--duration 5m] [--staggered-start] [--data-variation]
 */
import { runMultiUserMilestone } from '../../src/milestones/ms03.ts';
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';

await runMilestoneMain(() => runMultiUserMilestone(process.argv));
