const wordFrequency = (text) => {
  const words = text.toLowerCase().match(/\b[a-z0-9]+\b/g);
  const frequency = {};

  if (!words) {
    return {};
  }

  words.forEach(word => {
    if (frequency[word]) {
      frequency[word]++;
    } else {
      frequency[word] = 1;
    }
  });

  return frequency;
};

const topWords = (text, n) => {
  if (typeof n !== 'number' || n <= 0) {
    throw new RangeError('n must be a positive integer');
  }

  const frequency = wordFrequency(text);
  const sortedWords = Object.entries(frequency).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

  return sortedWords.slice(0, n);
};

if (require.main === module) {
  const text = "Hello world! Hello everyone. This is a test. This is a test.";
  console.log(wordFrequency(text)); // { hello: 2, world: 1, everyone: 1, this: 2, is: 2, a: 2, test: 2 }
  console.log(topWords(text, 3)); // [ ['hello', 2], ['this', 2], ['is', 2] ]
}

module.exports = { wordFrequency, topWords };
