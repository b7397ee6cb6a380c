module.exports = {
  splitWords(text) {
    if (typeof text !== 'string') {
      throw new TypeError('Argument must be a string');
    }

    const words = text.replace(/[\s-]+/g, ' ').split(' ');
    return words.map(word => word.toLowerCase());
  },

  toCamelCase(text) {
    if (typeof text !== 'string') {
      throw new TypeError('Argument must be a string');
    }

    const words = module.exports.splitWords(text);
    return words[0].toLowerCase() + words.slice(1).map(word => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()).join('');
  },

  toSnakeCase(text) {
    if (typeof text !== 'string') {
      throw new TypeError('Argument must be a string');
    }

    const words = module.exports.splitWords(text);
    return words.join('_');
  },

  toKebabCase(text) {
    if (typeof text !== 'string') {
      throw new TypeError('Argument must be a string');
    }

    const words = module.exports.splitWords(text);
    return words.join('-');
  }
};

if (require.main === module) {
  console.log(caseconv.splitWords('hello world')); // ['hello', 'world']
  console.log(caseconv.toCamelCase('hello world')); // 'helloWorld'
  console.log(caseconv.toSnakeCase('hello world')); // 'hello_world'
  console.log(caseconv.toKebabCase('hello world')); // 'hello-world'
}
