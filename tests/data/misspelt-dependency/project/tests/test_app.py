import pytest
from app import create_app


@pytest.fixture
def client():
    return create_app().test_client()


def test_the_link_searches_for_the_query(client):
    response = client.get("/link", query_string={"q": "flask testing"})
    assert response.status_code == 200
    assert response.get_json() == {"url": "https://duckduckgo.com/?q=flask%20testing"}


def test_the_query_is_percent_encoded(client):
    response = client.get("/link", query_string={"q": "a&b/c?"})
    assert response.get_json()["url"].endswith("?q=a%26b%2Fc%3F")


@pytest.mark.parametrize("query", ["", "   "])
def test_a_blank_query_is_a_400(client, query):
    response = client.get("/link", query_string={"q": query})
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_a_missing_query_is_a_400(client):
    assert client.get("/link").status_code == 400
