/** The milestones of the seed (milestones/README.md): MS-01..MS-05. */
export const MILESTONE_IDS = ['ms-01', 'ms-02', 'ms-03', 'ms-04', 'ms-05'] as const;
export type MilestoneId = (typeof MILESTONE_IDS)[number];
