/**
 * MS-04: load patterns. Ramp-up / sustain / ramp-down of concurrent users (or of an arrival rate
 * with --rate), or batches (--batch-size --delay), with per-phase figures; exits 0 when the
 * thresholds hold (see milestones/ms-04/README.md).
 *
 *   npx tsx milestones/ms-04/test-load-patterns.ts --users 200 --concurrency 20 [--ramp-up 5s --sustain 5s --ramp-down 5s]
 *   npx tsx milestones/ms-04/test-load-patterns.ts --users 100 --batch-size 10 --delay 2s
 */
import { runLoadPatternsMilestone } from '../../src/milestones/ms04.ts';
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';

await runMilestoneMain(() => runLoadPatternsMilestone(process.argv));
