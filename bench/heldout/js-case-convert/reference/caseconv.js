function check(text) {
  if (typeof text !== 'string') throw new TypeError('expected a string');
}

function splitWords(text) {
  check(text);
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return spaced
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function toCamelCase(text) {
  const words = splitWords(text);
  return words.map((w, i) => (i === 0 ? w : capitalize(w))).join('');
}

function toSnakeCase(text) {
  return splitWords(text).join('_');
}

function toKebabCase(text) {
  return splitWords(text).join('-');
}

module.exports = { splitWords, toCamelCase, toSnakeCase, toKebabCase };
