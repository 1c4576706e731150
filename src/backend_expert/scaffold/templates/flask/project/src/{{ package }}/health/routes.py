from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> tuple[dict[str, str], int]:
    """Answers 200 when the process and its database respond."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
