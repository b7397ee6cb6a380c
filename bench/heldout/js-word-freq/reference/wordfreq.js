function wordFrequency(text) {
  const counts = {};
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) || []) {
    counts[word] = (counts[word] || 0) + 1;
  }
  return counts;
}

function topWords(text, n) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  return Object.entries(wordFrequency(text))
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .slice(0, n);
}

module.exports = { wordFrequency, topWords };
