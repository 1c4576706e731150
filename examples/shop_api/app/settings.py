from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends
from pydantic import Field, HttpUrl, PostgresDsn, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from the environment (prefix `SHOP_`) or a local `.env` file."""

    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")

    app_name: str = "shop-api"
    environment: Literal["development", "staging", "production"] = "development"

    database_url: PostgresDsn
    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False

    payment_api_url: HttpUrl = HttpUrl("https://api.payments.example.com")
    payment_api_key: SecretStr
    payment_webhook_secret: SecretStr
    ledger_api_url: HttpUrl = HttpUrl("https://ledger.example.com")
    ledger_api_key: SecretStr
    settlement_dir: Path = Path("/var/lib/shop/settlements")
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    http_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def sync_database_url(self) -> str:
        """The same database through psycopg, for the synchronous reporting jobs."""
        return str(self.database_url).replace("+asyncpg", "+psycopg")

    @property
    def docs_enabled(self) -> bool:
        return self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # required fields come from the environment


SettingsDep = Annotated[Settings, Depends(get_settings)]
