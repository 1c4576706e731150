"""Business rules for items: views call these, so the rules hold for every entry point."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import Item


def items_of(owner: AbstractBaseUser) -> QuerySet[Item]:
    """The owner's items, with the owner loaded in the same query."""
    return Item.objects.filter(owner=owner).select_related("owner")


def create_item(owner: AbstractBaseUser, *, title: str, description: str = "") -> Item:
    return Item.objects.create(owner=owner, title=title, description=description)
