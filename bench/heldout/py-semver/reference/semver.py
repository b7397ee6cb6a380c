def parse_version(text: str) -> tuple[int, int, int]:
    body = text[1:] if text.startswith("v") else text
    parts = body.split(".")
    if len(parts) != 3 or not all(p and p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"not a version: {text!r}")
    major, minor, patch = (int(p) for p in parts)
    return major, minor, patch


def compare_versions(a: str, b: str) -> int:
    va, vb = parse_version(a), parse_version(b)
    return (va > vb) - (va < vb)


def max_version(versions: list[str]) -> str:
    if not versions:
        raise ValueError("no versions")
    best = versions[0]
    for version in versions[1:]:
        if compare_versions(version, best) > 0:
            best = version
    return best
