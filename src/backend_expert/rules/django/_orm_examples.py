"""Model sources shared by the examples of the Django ORM rules (not a rule)."""

from __future__ import annotations

BLOG_MODELS = """\
from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    bio = models.TextField(blank=True)


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


class Tag(models.Model):
    label = models.CharField(max_length=40, unique=True)


class Post(models.Model):
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    editor = models.ForeignKey("blog.Author", null=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField(Tag, blank=True)
    views = models.PositiveIntegerField(default=0)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    body = models.TextField()
"""


def blog(files: dict[str, str]) -> dict[str, str]:
    """A `blog` app (the models above) plus the given files, for cross-file examples."""
    return {"blog/__init__.py": "", "blog/models.py": BLOG_MODELS, **files}
