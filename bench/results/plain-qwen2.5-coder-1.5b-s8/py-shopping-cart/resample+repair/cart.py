class ShoppingCart:
    def __init__(self):
        self.items = {}

    def add(self, product, unit_price, quantity):
        if unit_price < 0 or quantity < 0:
            raise ValueError("Unit price and quantity must be non-negative.")
        if product in self.items:
            self.items[product] += quantity
        else:
            self.items[product] = quantity

    def remove(self, product, quantity):
        if product not in self.items:
            raise ValueError("Product not found in the cart.")
        if quantity > self.items[product]:
            raise ValueError("Quantity exceeds the available stock.")
        self.items[product] -= quantity

    def calculate_total(self, discount=0):
        if discount < 0 or discount > 100:
            raise ValueError("Discount must be between 0 and 100.")
        total = sum(price * quantity for product, (price, quantity) in self.items.items())
        if discount > 0:
            total *= (100 - discount) / 100
        return total
