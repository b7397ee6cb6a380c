const checkPasswordStrength = (password) => {
  const hasUpperCase = /[A-Z]/.test(password);
  const hasLowerCase = /[a-z]/.test(password);
  const hasDigit = /[0-9]/.test(password);
  const hasSymbol = /[!@#$%^&*()_+-=[]{}|;':",.<>?]/.test(password);

  return (
    password.length >= 12 &&
    hasUpperCase &&
    hasLowerCase &&
    hasDigit &&
    hasSymbol
  );
};

if (require.main === module) {
  const password = "StrongPass123!"; // Replace with your input password
  console.log(checkPasswordStrength(password));
}

module.exports = { checkPasswordStrength };
