// Jest's own order (failed and slow suites first), with two exceptions for the detect-lag page,
// whose runtime in a jest worker that earlier suites have used sometimes never pages (cause not
// yet found): suites which drive the node inspector against this process's worker threads run
// last (after test/integration/aggregator-restart, a later detect-lag never paged, seen in CI and
// alone with the pair), and the detect-lag suite runs first, in a fresh worker (two full runs on
// clean clones at db594c6 failed it after 2 min; alone it passes in 10 s).
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = ['detect-lag.test.ts'];
const LAST = ['aggregator-restart.test.ts'];

class DetectLagFirstInspectorSuitesLast extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const isFirst = (test) => FIRST.some((name) => test.path.endsWith(name));
    const isLast = (test) => LAST.some((name) => test.path.endsWith(name));
    return [...ordered.filter(isFirst), ...ordered.filter((test) => !isFirst(test) && !isLast(test)), ...ordered.filter(isLast)];
  }
}

module.exports = DetectLagFirstInspectorSuitesLast;
