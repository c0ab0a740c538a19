/**
 * MS-05: streaming load. Users arrive as a Poisson process and each runs one flow; a live view
 * shows progress; exits 0 when the seed targets hold (see milestones/ms-05/README.md).
 *
 *   npx tsx milestones/ms-05/test-streaming-load.ts --users 1000 --rate 20
 *   npx tsx milestones/ms-05/test-streaming-load.ts --quick                    # CI profile
 *   npx tsx milestones/ms-05/test-streaming-load.ts --relay direct --pool-size 200 --funding-workers 2
 */
import { runStreamingMilestone } from '../../src/milestones/ms05.ts';
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';

await runMilestoneMain(() => runStreamingMilestone(process.argv));
