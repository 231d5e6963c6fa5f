/** jest globalTeardown: removes the run's synth cache directory (test-support/synth-cache-setup.js). */
const fs = require('fs');

module.exports = async () => {
  const dir = process.env.FINBATCH_SYNTH_CACHE;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  delete process.env.FINBATCH_SYNTH_CACHE;
};
