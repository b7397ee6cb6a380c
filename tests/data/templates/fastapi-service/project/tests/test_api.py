import pytest
from app.main import app, get_store
from app.store import NoteStore
from fastapi.testclient import TestClient


@pytest.fixture
def client():
    fresh = NoteStore()
    app.dependency_overrides[get_store] = lambda: fresh
    with TestClient(app) as test_client:
        yield test_client
    app.dependency_overrides.clear()


def test_a_created_note_gets_an_id_and_can_be_read_back(client):
    created = client.post("/notes", json={"title": "Groceries", "body": "milk, eggs"})
    assert created.status_code == 201
    note = created.json()
    assert note == {"id": 1, "title": "Groceries", "body": "milk, eggs"}
    assert client.get(f"/notes/{note['id']}").json() == note


def test_the_list_holds_every_note_in_order(client):
    client.post("/notes", json={"title": "first"})
    client.post("/notes", json={"title": "second"})
    response = client.get("/notes")
    assert response.status_code == 200
    assert [n["title"] for n in response.json()] == ["first", "second"]


def test_the_list_starts_empty(client):
    assert client.get("/notes").json() == []


def test_an_unknown_note_is_a_404(client):
    response = client.get("/notes/42")
    assert response.status_code == 404
    assert response.json() == {"detail": "note 42 not found"}


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": "x" * 101}, {"title": 3}])
def test_an_invalid_note_is_a_422(client, body):
    assert client.post("/notes", json=body).status_code == 422


def test_a_deleted_note_is_gone(client):
    client.post("/notes", json={"title": "temporary"})
    assert client.delete("/notes/1").status_code == 204
    assert client.get("/notes/1").status_code == 404
    assert client.delete("/notes/1").status_code == 404
