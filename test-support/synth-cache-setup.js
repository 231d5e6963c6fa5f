/**
 * jest globalSetup: one directory for the run in which test-support/platform-cache.ts keeps each
 * synthesized full-platform variant, so worker processes share one synth per variant. Workers
 * inherit the variable; test-support/synth-cache-teardown.js removes the directory.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  if (process.env.FINBATCH_SYNTH_CACHE && fs.existsSync(process.env.FINBATCH_SYNTH_CACHE)) return;
  process.env.FINBATCH_SYNTH_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'finbatch-synth-cache-'));
};
