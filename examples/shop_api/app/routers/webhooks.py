import hashlib
import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from pydantic import ValidationError

from app.db import DbSession
from app.schemas import PaymentEvent
from app.services import orders as order_service
from app.settings import SettingsDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def verify_signature(body: bytes, signature: str | None, secret: str) -> None:
    if not signature:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Missing signature")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=")):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Invalid signature")


@router.post("/payments", status_code=status.HTTP_204_NO_CONTENT)
async def payment_webhook(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    x_signature: Annotated[str | None, Header()] = None,
) -> None:
    body = await request.body()
    verify_signature(body, x_signature, settings.payment_webhook_secret.get_secret_value())
    try:
        event = PaymentEvent.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="Malformed event") from exc

    logger.info("payment webhook %s (%s) for order %s", event.id, event.type, event.order_id)
    await order_service.apply_payment_event(db, event)
