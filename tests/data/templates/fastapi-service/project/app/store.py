"""Notes kept in memory, by id."""

from app.models import Note, NoteIn


class NoteStore:
    def __init__(self) -> None:
        self._notes: dict[int, Note] = {}
        self._next_id = 1

    def add(self, data: NoteIn) -> Note:
        note = Note(id=self._next_id, **data.model_dump())
        self._notes[note.id] = note
        self._next_id += 1
        return note

    def all(self) -> list[Note]:
        return list(self._notes.values())

    def get(self, note_id: int) -> Note | None:
        return self._notes.get(note_id)

    def delete(self, note_id: int) -> bool:
        """True when the note existed (and is now gone)."""
        return self._notes.pop(note_id, None) is not None
