// Differential oracle for bellhop's SMS segmentation: reads a JSON array of
// [text, smartEncoding] pairs on stdin and prints, for each, what Twilio's
// sms-segments-calculator@1.3.0 says: [encoding, segments, distinct non-GSM characters].
const { SegmentedMessage } = require('sms-segments-calculator');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const out = cases.map(([text, smart]) => {
    const m = new SegmentedMessage(text, 'auto', smart);
    return [m.encodingName, m.segmentsCount, [...new Set(m.getNonGsmCharacters())]];
  });
  process.stdout.write(JSON.stringify(out));
});
