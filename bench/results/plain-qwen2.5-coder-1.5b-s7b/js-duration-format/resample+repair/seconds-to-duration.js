const { abs, floor } = Math;

function secondsToDuration(seconds) {
  if (typeof seconds !== 'number' || seconds < 0) {
    throw new Error('Input must be a non-negative number');
  }

  const days = floor(seconds / (24 * 60 * 60));
  seconds %= (24 * 60 * 60);

  const hours = floor(seconds / (60 * 60));
  seconds %= (60 * 60);

  const minutes = floor(seconds / 60);
  seconds %= 60;

  const remainingSeconds = seconds;

  const duration = [];
  if (days > 0) duration.push(`${days} day${days > 1 ? 's' : ''}`);
  if (hours > 0) duration.push(`${hours} hour${hours > 1 ? 's' : ''}`);
  if (minutes > 0) duration.push(`${minutes} minute${minutes > 1 ? 's' : ''}`);
  if (remainingSeconds > 0) duration.push(`${remainingSeconds} second${remainingSeconds > 1 ? 's' : ''}`);

  return duration.join(' ');
}

if (require.main === module) {
  console.log(secondsToDuration(3660)); // Output: "1 day 1 hour 1 minute 1 second"
  console.log(secondsToDuration(3600)); // Output: "1 hour 1 minute 0 second"
  console.log(secondsToDuration(60)); // Output: "1 minute 0 second"
  console.log(secondsToDuration(1)); // Output: "1 second"
  console.log(secondsToDuration(-1)); // Throws an error
  console.log(secondsToDuration('abc')); // Throws an error
}

module.exports = { secondsToDuration };
