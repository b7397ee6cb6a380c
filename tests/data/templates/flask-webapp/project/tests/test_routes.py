import pytest
from app import create_app


@pytest.fixture
def client():
    return create_app({"TESTING": True}).test_client()


def test_the_home_page_starts_with_nothing_to_do(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Nothing to do." in response.data


def test_an_added_todo_is_listed_on_the_home_page(client):
    response = client.post("/todos", data={"title": "Buy milk"}, follow_redirects=True)
    assert response.status_code == 200
    assert b"Buy milk" in response.data
    assert b"Nothing to do." not in response.data


def test_an_empty_title_shows_an_error_with_status_400(client):
    response = client.post("/todos", data={"title": "   "})
    assert response.status_code == 400
    assert b"A title is required." in response.data


def test_a_todo_can_be_marked_done(client):
    client.post("/todos", data={"title": "Buy milk"})
    response = client.post("/todos/1/done", follow_redirects=True)
    assert response.status_code == 200
    assert b'class="done"' in response.data


def test_marking_an_unknown_todo_done_is_a_404(client):
    assert client.post("/todos/99/done").status_code == 404


def test_each_app_has_its_own_list():
    create_app().test_client().post("/todos", data={"title": "Only here"})
    assert b"Only here" not in create_app().test_client().get("/").data
