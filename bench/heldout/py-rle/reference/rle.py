def encode(text: str) -> str:
    if any(ch.isdigit() for ch in text):
        raise ValueError("text contains a digit")
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        out.append(f"{j - i}{text[i]}")
        i = j
    return "".join(out)


def decode(data: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j].isdigit():
            j += 1
        if j == i:
            raise ValueError(f"character without a count at {i}")
        if j == len(data):
            raise ValueError("count without a character at the end")
        count = int(data[i:j])
        if count == 0:
            raise ValueError("zero count")
        out.append(data[j] * count)
        i = j + 1
    return "".join(out)
