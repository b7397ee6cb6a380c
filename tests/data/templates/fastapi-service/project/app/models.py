"""The request and response bodies of the notes API."""

from pydantic import BaseModel, Field


class NoteIn(BaseModel):
    """A note as a client sends it."""

    title: str = Field(min_length=1, max_length=100)
    body: str = ""


class Note(NoteIn):
    """A stored note, with the id the API gave it."""

    id: int
