/**
 * The flags the shipper's node runs with, wherever it is started: its shebang and `npm run ship` carry them,
 * and what starts `dist/tools/ship/cli.js` with `node` itself (benchmarks, load runs, tests) passes these.
 * A young generation of 4 MiB semi-spaces keeps the busy shipper's peak RSS within its 150 MB bound
 * (docs/shipping.md, "Backpressure and memory"); V8's default of 16 MiB lets it reach 180 MiB and more.
 */
export const SHIPPER_NODE_FLAGS = ['--max-semi-space-size=4'];
