"""Alembic environment for Flask-Migrate: the engine and metadata come from the Flask app."""

from alembic import context
from flask import current_app

config = context.config
database = current_app.extensions["migrate"].db
target_metadata = database.metadata


def run_migrations_offline() -> None:
    url = str(database.engine.url)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with database.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
