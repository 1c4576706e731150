import os
import secrets

import pytest

os.environ.setdefault("SHOP_DATABASE_URL", "postgresql+asyncpg://shop@localhost:5432/shop_test")
os.environ.setdefault("SHOP_PAYMENT_API_KEY", secrets.token_hex(16))
os.environ.setdefault("SHOP_PAYMENT_WEBHOOK_SECRET", secrets.token_hex(16))
os.environ.setdefault("SHOP_LEDGER_API_KEY", secrets.token_hex(16))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
