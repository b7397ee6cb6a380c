def word_count(text: str) -> int:
    return len(text.split())


def char_frequency(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text.lower():
        if ch.isalpha():
            counts[ch] = counts.get(ch, 0) + 1
    return counts


def most_common_word(text: str) -> str | None:
    words = [w.strip(".,!?;:").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return None
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    best = max(counts.values())
    return next(w for w in words if counts[w] == best)
