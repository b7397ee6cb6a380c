def is_balanced(text):
    stack = []
    for char in text:
        if char == '(':
            stack.append(char)
        elif char == ')':
            if not stack:
                return False
            stack.pop()
        elif char == '{':
            stack.append(char)
        elif char == '}':
            if not stack:
                return False
            stack.pop()
    return not stack

def is_properly_nested(text):
    balance = 0
    for char in text:
        if char == '(':
            balance += 1
        elif char == ')':
            balance -= 1
        elif char == '{':
            balance += 1
        elif char == '}':
            balance -= 1
        if balance < 0:
            return False
    return balance == 0

if __name__ == "__main__":
    print(is_balanced("()"))  # True
    print(is_balanced("(()())"))  # True
    print(is_balanced(")("))  # False
    print(is_balanced("{}}"))  # False
    print(is_properly_nested("()"))  # True
    print(is_properly_nested("(()())"))  # True
    print(is_properly_nested(")("))  # False
    print(is_properly_nested("{}}"))  # False
