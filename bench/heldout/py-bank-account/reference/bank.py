from __future__ import annotations


class InsufficientFundsError(Exception):
    """A withdrawal larger than the balance."""


class BankAccount:
    def __init__(self, owner: str, balance: float = 0.0):
        if balance < 0:
            raise ValueError("opening balance cannot be negative")
        self.owner = owner
        self._balance = balance
        self._history: list[tuple[str, float]] = []

    @property
    def balance(self) -> float:
        return self._balance

    @staticmethod
    def _check(amount: float) -> None:
        if amount <= 0:
            raise ValueError("amount must be positive")

    def deposit(self, amount: float) -> float:
        self._check(amount)
        self._balance += amount
        self._history.append(("deposit", amount))
        return self._balance

    def withdraw(self, amount: float) -> float:
        self._check(amount)
        if amount > self._balance:
            raise InsufficientFundsError(f"cannot withdraw {amount}: balance {self._balance}")
        self._balance -= amount
        self._history.append(("withdraw", amount))
        return self._balance

    def transfer(self, other: BankAccount, amount: float) -> None:
        self.withdraw(amount)
        other.deposit(amount)

    def history(self) -> list[tuple[str, float]]:
        return list(self._history)
