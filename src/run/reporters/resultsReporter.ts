/**
 * The results directory as a reporter: each finished flow to `flows.jsonl` and each sample to
 * `timeseries.jsonl` as they come (a crash loses at most the current turn's lines), then
 * `summary.json` and `report.html` at the end.
 */
import { writeHtmlReport } from '../../report/html.ts';
import type { ResultsWriter } from '../../metrics/resultsWriter.ts';
import type { RunReporter } from '../runReporter.ts';

/**
 * @example
 * const results = createResultsReporter(writer, { title: 'Milestone 3: Multi-User Validation' });
 */
export function createResultsReporter(writer: ResultsWriter, { title }: { title: string }): RunReporter {
  return {
    onFlowFinished: (result) => writer.writeFlow(result),
    onSample: (sample) => writer.writeSample(sample),
    async onRunEnd(summary) {
      await writer.writeSummary(summary);
      await writer.close();
      await writeHtmlReport(writer.dir, { summary, title });
    },
    close: () => writer.close().catch(() => {}),
  };
}
