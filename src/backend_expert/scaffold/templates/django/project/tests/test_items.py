import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_create_list_update_delete(api: APIClient) -> None:
    created = api.post("/api/v1/items/", {"title": "first"}, format="json")
    assert created.status_code == 201, created.content
    item = created.json()
    assert item["owner"] == "ada"

    listed = api.get("/api/v1/items/").json()
    assert [entry["id"] for entry in listed["results"]] == [item["id"]]

    updated = api.patch(f"/api/v1/items/{item['id']}/", {"title": "renamed"}, format="json")
    assert updated.json()["title"] == "renamed"

    assert api.delete(f"/api/v1/items/{item['id']}/").status_code == 204
    assert api.get(f"/api/v1/items/{item['id']}/").status_code == 404


def test_items_are_private(api: APIClient, other_user) -> None:
    item = api.post("/api/v1/items/", {"title": "ada's"}, format="json").json()
    bob = APIClient()
    bob.force_authenticate(other_user)
    assert bob.get(f"/api/v1/items/{item['id']}/").status_code == 404
    assert bob.get("/api/v1/items/").json()["results"] == []


def test_owner_cannot_be_forged(api: APIClient, other_user) -> None:
    forged = {"title": "mine", "owner": other_user.username}
    created = api.post("/api/v1/items/", forged, format="json")
    assert created.json()["owner"] == "ada"


def test_anonymous_requests_are_refused(db) -> None:
    response = APIClient().post("/api/v1/items/", {"title": "anonymous"}, format="json")
    assert response.status_code == 403
