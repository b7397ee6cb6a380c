from inventory import Inventory


def format_report(inventory: Inventory) -> str:
    lines = [f"{name}: {inventory.quantity(name)}" for name in inventory.names()]
    lines.append(f"total: {inventory.total_items()}")
    return "\n".join(lines)
