const { parse } = require('date-fns');

module.exports.secondsToDuration = (seconds) => {
  if (typeof seconds !== 'number' || seconds < 0) {
    throw new Error('Input must be a non-negative number');
  }

  const duration = parse(seconds, 's', new Date()).toISOString().split('T')[1];

  return duration.replace(/0+:/g, ':');
};
