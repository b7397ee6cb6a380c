import sys
from collections import Counter

def main():
    if len(sys.argv) != 2:
        print("Usage: python word_counter.py <filename>")
        return

    filename = sys.argv[1]
    try:
        with open(filename, 'r') as file:
            text = file.read().lower()
            words = text.split()
            word_counts = Counter(words)
            top_10_words = word_counts.most_common(10)
            for word, count in top_10_words:
                print(f"{word}: {count}")
    except FileNotFoundError:
        print(f"File {filename} not found.")

if __name__ == "__main__":
    main()
