import pytest
from bank import BankAccount, InsufficientFundsError


def test_opening_balance_and_owner():
    acct = BankAccount("Ada", 100.0)
    assert acct.owner == "Ada"
    assert acct.balance == 100.0
    assert BankAccount("Bob").balance == 0.0
    with pytest.raises(ValueError):
        BankAccount("Eve", -1.0)


def test_deposit_and_withdraw_return_new_balance():
    acct = BankAccount("Ada", 50.0)
    assert acct.deposit(25.0) == 75.0
    assert acct.withdraw(70.0) == 5.0
    assert acct.balance == 5.0


def test_non_positive_amounts_raise():
    acct = BankAccount("Ada", 50.0)
    for bad in (0, -5.0):
        with pytest.raises(ValueError):
            acct.deposit(bad)
        with pytest.raises(ValueError):
            acct.withdraw(bad)
    assert acct.balance == 50.0


def test_overdraft_raises_and_keeps_balance():
    acct = BankAccount("Ada", 30.0)
    with pytest.raises(InsufficientFundsError):
        acct.withdraw(30.01)
    assert acct.balance == 30.0
    assert acct.withdraw(30.0) == 0.0
    assert issubclass(InsufficientFundsError, Exception)


def test_transfer_moves_money_or_nothing():
    a, b = BankAccount("Ada", 100.0), BankAccount("Bob", 10.0)
    a.transfer(b, 40.0)
    assert (a.balance, b.balance) == (60.0, 50.0)
    with pytest.raises(InsufficientFundsError):
        a.transfer(b, 1000.0)
    with pytest.raises(ValueError):
        a.transfer(b, 0)
    assert (a.balance, b.balance) == (60.0, 50.0)


def test_history_records_successful_operations():
    a, b = BankAccount("Ada", 100.0), BankAccount("Bob")
    a.deposit(20.0)
    a.withdraw(5.0)
    with pytest.raises(InsufficientFundsError):
        a.withdraw(1000.0)
    a.transfer(b, 15.0)
    assert a.history() == [("deposit", 20.0), ("withdraw", 5.0), ("withdraw", 15.0)]
    assert b.history() == [("deposit", 15.0)]
    assert BankAccount("New", 5.0).history() == []
