"""Coder: one file's full content from a (messy) reply; fixes carry feedback and previous."""

from __future__ import annotations

import pytest

from atelier.agents.coder import write_file
from atelier.domain.errors import LLMOutputInvalid
from atelier.domain.plan import FileSpec, Plan
from atelier.llm.scripted import ScriptedLLM

PLAN = Plan(
    name="shop",
    summary="Prices and carts.",
    language="python",
    files=[
        FileSpec(path="shop/prices.py", purpose="price(item: str) -> float"),
        FileSpec(
            path="shop/cart.py",
            purpose="class Cart with add(item), total()",
            depends_on=["shop/prices.py"],
        ),
    ],
)
PRICES = "def price(item: str) -> float:\n    return {'apple': 1.5}.get(item, 0.0)\n"
CART = (
    "from shop.prices import price\n\n\nclass Cart:\n    def __init__(self):\n"
    "        self.items = []\n\n    def add(self, item):\n        self.items.append(item)\n\n"
    "    def total(self):\n        return sum(price(i) for i in self.items)\n"
)


async def test_happy_path_prompt_names_module_and_dependencies() -> None:
    llm = ScriptedLLM({"coder": [f"Here is the file:\n```python\n{CART}```\nEnjoy!"]})
    code = await write_file(
        PLAN,
        PLAN.file("shop/cart.py"),
        {"shop/prices.py": PRICES},
        llm,
        spec_prompt="A shop with a cart.",
        temperature=0.4,
    )
    assert code == CART
    request = llm.calls[0]
    assert request.agent == "coder" and request.temperature == 0.4
    assert request.max_tokens == 2048
    user = request.messages[-1].content
    assert "module `shop.cart`" in user and "A shop with a cart." in user
    assert "def price(item: str) -> float" in user  # the dependency's content
    assert "```python block" in user
    assert "__main__" in request.messages[0].content


async def test_fix_round_sends_feedback_and_previous() -> None:
    buggy = CART.replace("sum(", "max(")
    llm = ScriptedLLM({"coder": [f"```python\n{CART}```"]})
    code = await write_file(
        PLAN,
        PLAN.file("shop/cart.py"),
        {"shop/prices.py": PRICES, "shop/cart.py": buggy, "tests/test_cart.py": "def test(): ..."},
        llm,
        spec_prompt="shop",
        feedback="FAILED test_total - assert 1.5 == 3.0",
        previous=buggy,
    )
    assert code == CART
    user = llm.calls[0].messages[-1].content
    assert "assert 1.5 == 3.0" in user and "max(price(i)" in user
    assert user.count("max(price(i)") == 1  # previous shown once, not also as context
    assert "tests/test_cart.py" in user


async def test_truncated_reply_is_cut_back_to_compile() -> None:
    reply = f"```python\n{CART}\n    def clear(self):\n        self.items = ["
    code = await write_file(
        PLAN, PLAN.file("shop/cart.py"), {}, ScriptedLLM({"coder": [reply]}), spec_prompt="shop"
    )
    compile(code, "cart.py", "exec")
    assert "def total(self)" in code


async def test_empty_reply_raises_unless_there_is_previous_content() -> None:
    llm = ScriptedLLM({"coder": ["I cannot help with that."]})
    with pytest.raises(LLMOutputInvalid):
        await write_file(PLAN, PLAN.file("shop/prices.py"), {}, llm, spec_prompt="shop")
    kept = await write_file(
        PLAN,
        PLAN.file("shop/prices.py"),
        {},
        llm,
        spec_prompt="shop",
        feedback="fails",
        previous=PRICES,
    )
    assert kept == PRICES


async def test_small_window_trims_context_to_signatures() -> None:
    class SmallLLM(ScriptedLLM):
        @property
        def context_window(self) -> int:
            return 2048

    big = PRICES + "".join(
        f'\n\ndef helper_{i}(x: int) -> int:\n    """Helper {i}."""\n'
        + "".join(f"    x = x + {j}\n" for j in range(40))
        + "    return x\n"
        for i in range(10)
    )
    llm = SmallLLM({"coder": [f"```python\n{CART}```"]})
    await write_file(
        PLAN, PLAN.file("shop/cart.py"), {"shop/prices.py": big}, llm, spec_prompt="shop"
    )
    request = llm.calls[0]
    assert request.max_tokens == 1024
    user = request.messages[-1].content
    assert "def helper_9(x: int) -> int" in user and "x = x + 39" not in user
