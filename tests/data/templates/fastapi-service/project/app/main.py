"""The notes API: create, list, get and delete notes."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Response, status

from app.models import Note, NoteIn
from app.store import NoteStore

app = FastAPI(title="Notes")
_store = NoteStore()


def get_store() -> NoteStore:
    """The store the endpoints use (tests override it with a fresh one)."""
    return _store


StoreDep = Annotated[NoteStore, Depends(get_store)]


def _not_found(note_id: int) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND,
                         detail=f"note {note_id} not found")


@app.post("/notes", status_code=status.HTTP_201_CREATED)
def create_note(note: NoteIn, store: StoreDep) -> Note:
    return store.add(note)


@app.get("/notes")
def list_notes(store: StoreDep) -> list[Note]:
    return store.all()


@app.get("/notes/{note_id}")
def get_note(note_id: int, store: StoreDep) -> Note:
    note = store.get(note_id)
    if note is None:
        raise _not_found(note_id)
    return note


@app.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_note(note_id: int, store: StoreDep) -> Response:
    if not store.delete(note_id):
        raise _not_found(note_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
