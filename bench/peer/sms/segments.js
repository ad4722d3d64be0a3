// Baseline of bench/sms: Twilio's sms-segments-calculator@1.3.0 over the corpus bellhop
// wrote (a JSON array of texts): a warm-up, then one timed pass over the first LIMIT texts
// (argv[3], default 10,000; the corpus repeats its mix every 20 texts). The calculator runs at
// a few hundred texts a second, so the whole corpus would take minutes.
const { SegmentedMessage } = require('sms-segments-calculator');
const limit = Number(process.argv[3] || 10000);
const texts = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')).slice(0, limit);
let parts = 0;
for (const t of texts.slice(0, 1000)) parts += new SegmentedMessage(t).segmentsCount;
const passes = 1;
const started = process.hrtime.bigint();
for (let p = 0; p < passes; p++) {
  for (const t of texts) parts += new SegmentedMessage(t).segmentsCount;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`oracle: ${Math.round((texts.length * passes) / seconds)} texts/s (${parts} parts)`);
