// Preloaded with NODE_OPTIONS=--require into every node process of a measured command: appends the
// process's peak RSS (bytes) to $BENCH_RSS_FILE at exit, so the benchmark sees child processes too.
const fs = require('fs');
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) {
    fs.appendFileSync(process.env.BENCH_RSS_FILE, `${process.pid} ${process.resourceUsage().maxRSS * 1024}\n`);
  }
});
