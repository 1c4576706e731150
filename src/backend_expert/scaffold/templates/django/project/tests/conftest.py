import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ada", password="correct horse battery staple")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", password="another long passphrase")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
