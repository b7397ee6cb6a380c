def parse_line(line: str, delimiter: str = ",") -> list[str]:
    if len(delimiter) != 1 or delimiter == '"':
        raise ValueError("delimiter must be one character other than a double quote")
    fields: list[str] = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            i += 1
            value: list[str] = []
            while True:
                if i >= n:
                    raise ValueError("unterminated quoted field")
                if line[i] == '"':
                    if i + 1 < n and line[i + 1] == '"':
                        value.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                value.append(line[i])
                i += 1
            if i < n and line[i] != delimiter:
                raise ValueError(f"unexpected character after closing quote at {i}")
            fields.append("".join(value))
        else:
            j = line.find(delimiter, i)
            end = n if j == -1 else j
            fields.append(line[i:end])
            i = end
        if i >= n:
            return fields
        i += 1  # skip the delimiter; a delimiter at the end yields one more empty field
        if i == n:
            fields.append("")
            return fields


def format_line(fields: list[str], delimiter: str = ",") -> str:
    out = []
    for field in fields:
        if delimiter in field or '"' in field or "\n" in field or "\r" in field:
            out.append('"' + field.replace('"', '""') + '"')
        else:
            out.append(field)
    return delimiter.join(out)
