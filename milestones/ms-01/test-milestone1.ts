/**
 * MS-01: core components validation — config, protocol crypto, contracts on the local chain,
 * API server health, client instantiation, typecheck. Exit 0 when every check passes, 1 otherwise.
 *
 *   npx tsx milestones/ms-01/test-milestone1.ts [--skip-typecheck]
 */
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';
import { runCoreComponentsMilestone } from '../../src/milestones/ms01.ts';

await runMilestoneMain(() => runCoreComponentsMilestone(process.argv));
