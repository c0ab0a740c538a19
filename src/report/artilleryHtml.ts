/**
 * report.html of an Artillery run: the same page as our runner's (renderHtmlReport), drawn from the
 * 10 s periods, with a section under the verdict that says what a distributed run cannot show.
 */
import { VanaLoadError } from '../errors.ts';
import type { TimeseriesSample } from '../metrics/types.ts';
import type { ArtilleryRunSummary } from './artillerySummary.ts';
import { renderHtmlReport } from './html.ts';
import { escapeHtml } from './htmlFormat.ts';

const ANCHOR = '<section id="throughput">';

/**
 * @example
 * const html = renderArtilleryHtmlReport({ summary, samples });
 */
export function renderArtilleryHtmlReport({ summary, samples }: { summary: ArtilleryRunSummary; samples: readonly TimeseriesSample[] }): string {
  const { runner } = summary;
  const workers = runner.workers === null ? 'Artillery workers' : `${runner.workers} Artillery worker${runner.workers === 1 ? '' : 's'}`;
  const title = `vana-load ${summary.milestone ?? 'run'} on ${workers} — ${summary.runId}`;
  const html = renderHtmlReport({ summary, samples, title });
  const waits =
    runner.startupWaits > 0
      ? `<p class="warning">${runner.startupWaits} virtual user${runner.startupWaits === 1 ? '' : 's'} arrived before ${runner.startupWaits === 1 ? 'its' : 'their'} worker had opened its environment; their end-to-end latency includes that wait. A warm-up pause before the first phase avoids it (vana-load artillery init adds one).</p>`
      : '';
  const section = `<section id="artillery">
<h2>Distributed run: what this report cannot show</h2>
<p>Merged by Artillery from ${escapeHtml(runner.output)}: ${runner.periods} period${runner.periods === 1 ? '' : 's'} of ${runner.periodS} s, ${escapeHtml(workers)}.</p>
${waits}
<ul>
${runner.limitations.map((line) => `<li>${escapeHtml(line)}</li>`).join('\n')}
</ul>
</section>
`;
  const at = html.indexOf(ANCHOR);
  if (at === -1) throw new VanaLoadError('Cannot place the Artillery section in report.html: the page has no throughput section', { code: 'REPORT_LAYOUT_CHANGED' });
  return `${html.slice(0, at)}${section}${html.slice(at)}`;
}
