/**
 * MS-06: resilience. Runs fault scenarios (proxies at the flow's boundaries, process faults on the
 * local stack) and prints a survival table and a verdict; exits 1 naming a scenario the stack did
 * not survive (see milestones/ms-06/README.md).
 *
 *   npx tsx milestones/ms-06/test-resilience.ts                      # every shipped scenario
 *   npx tsx milestones/ms-06/test-resilience.ts --quick              # CI scale
 *   npx tsx milestones/ms-06/test-resilience.ts --scenario milestones/ms-06/scenarios/unsurvivable/relay-down.json
 *   npx tsx milestones/ms-06/test-resilience.ts --fault 'storage:status=503,rate=0.1,from=10s,until=40s' --expect 'recovery<10s'
 */
import { runResilienceMilestone } from '../../src/milestones/ms06.ts';
import { runMilestoneMain } from '../../src/cli/milestoneCli.ts';

await runMilestoneMain(() => runResilienceMilestone(process.argv));
