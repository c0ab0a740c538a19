import { describe, expect, it } from 'vitest';
import { withChainTimeline } from '../../test/fixtures/chainFixture.ts';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import { formatChainFrameLine, formatChainLiveParts } from './chainTerminal.ts';
import { createLiveView, formatFinalReport, formatLiveLine, type OutputStream } from './terminal.ts';

const ESC = '\u001b[';

describe('the chain in the live view', () => {
  const { samples } = withChainTimeline(exampleRun({ sampleCount: 30 }));

  it('adds the head, fill, base fee, inclusion, relayers and queue to the plain line', () => {
    expect(formatChainLiveParts(samples[21]!)).toEqual(['block 111 fill 96% fee 1.23gwei incl 3.50s', 'relayers pend 20 gap 2', 'ps 3/6']);
    expect(formatLiveLine(samples[21]!)).toMatch(/ rss h \S+ s \S+ a \S+ block 111 fill 96% fee 1\.23gwei incl 3\.50s relayers pend 20 gap 2 ps 3\/6 phase sustain$/);
    // An interval without a block keeps the head, its fill and the base fee.
    expect(formatChainLiveParts(samples[22]!)[0]).toBe('block 111 fill 96% fee 1.23gwei incl -');
    expect(formatChainFrameLine(samples[22]!)).toMatch(/^#111 {2}no new block \(#111 was 96% full\) · base fee 1\.23 gwei · /);
    expect(formatChainLiveParts(samples[0]!)[0]).toBe('block 100 fill - fee 1.00gwei incl -');
  });

  it('draws a chain line in every TTY frame of a run with a timeline, so the frame keeps its height', () => {
    const writes: string[] = [];
    const stream: OutputStream = { isTTY: true, write: (chunk: string) => writes.push(chunk) };
    const view = createLiveView({ stream, color: false });
    for (const sample of samples.slice(20, 24)) view.update(sample);
    view.stop();
    expect(writes.slice(1).every((w) => w.startsWith(`${ESC}7A`))).toBe(true);
    expect(writes.at(-1)!.split('\n').find((l) => l.includes('chain'))).toBe(
      `${ESC}2Kchain   #112  1 block 96% full (max 96%), 23 tx · base fee 1.37 gwei · accept p95 50ms  inclusion p95 3.50s · relayers 20 pending, gap 0 · ps 3 preparing, 6 running`,
    );
    expect(formatChainFrameLine(exampleRun({ sampleCount: 1 }).samples[0]!)).toBeUndefined();
  });
});

describe('the chain in the final report', () => {
  it('has a chain section and names the chain as the bottleneck just above the VERDICT line', () => {
    const { summary } = withChainTimeline(exampleRun({ sampleCount: 60 }), { notes: ['personal-server queue: not measured (the server at http://ps.example exposes none)'] });
    const lines = formatFinalReport(summary).trimEnd().split('\n');
    const at = lines.indexOf('⛓️  Chain:');
    expect(lines.slice(at, at + 7)).toEqual([
      '⛓️  Chain:',
      '  blocks 84 % full on average over 30 blocks (87 % over half full), base fee 1.00 gwei → 9.72 gwei (climbed 0.83 gwei → 9.72 gwei)',
      '  602 transactions in 30 blocks, a block every 2.00 s',
      '  transactions: RPC accept (relay) p95 624ms · accepted → included (confirm) p95 4.56s, max 11.4s',
      "  relayers: peak 20 pending, peak nonce gap 2, peak 18 in the node's pool",
      '  personal server: peak 3 preparing, 6 running',
      '  personal-server queue: not measured (the server at http://ps.example exposes none)',
    ]);
    expect(lines.slice(-2)).toEqual(['🧱 Bottleneck: the chain — blocks 84 % full on average, base fee 0.83 gwei → 9.72 gwei', 'VERDICT: FAIL (1 of 4 thresholds failed)']);
  });

  it('names no bottleneck for a healthy chain, and has no chain section for a run without a timeline', () => {
    const healthy = formatFinalReport(withChainTimeline(exampleRun({ sampleCount: 60 }), { congested: false }).summary);
    expect([healthy.includes('⛓️  Chain:'), healthy.includes('Bottleneck')]).toEqual([true, false]);
    const old = formatFinalReport(exampleRun({ sampleCount: 60 }).summary);
    expect([old.includes('⛓️  Chain:'), old.includes('Bottleneck')]).toEqual([false, false]);
  });
});
