/**
 * `npm run bench -- capacity [flags]`: the same as `vana-load capacity [flags]` (src/capacity/),
 * kept so the benchmark list and older notes still work. Runs the CLI in this process.
 */
process.argv.splice(2, 0, 'capacity');
await import('../src/cli/main.ts');
