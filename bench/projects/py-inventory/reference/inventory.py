class Inventory:
    def __init__(self) -> None:
        self._stock: dict[str, int] = {}

    def add_item(self, name: str, quantity: int) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self._stock[name] = self._stock.get(name, 0) + quantity

    def remove_item(self, name: str, quantity: int) -> None:
        if name not in self._stock:
            raise KeyError(name)
        if self._stock[name] < quantity:
            raise ValueError("not enough stock")
        self._stock[name] -= quantity
        if self._stock[name] == 0:
            del self._stock[name]

    def quantity(self, name: str) -> int:
        return self._stock.get(name, 0)

    def total_items(self) -> int:
        return sum(self._stock.values())

    def names(self) -> list[str]:
        return sorted(self._stock)
