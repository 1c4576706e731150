from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.models import OrderStatus

Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Users


class UserCreate(BaseModel):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=200)


class UserRead(ORMModel):
    id: int
    email: EmailStr
    full_name: str
    is_active: bool
    created_at: datetime


class UserCreated(UserRead):
    api_token: str = Field(description="Shown once; only its hash is stored.")


# Products


class ProductCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    price: Money = Field(gt=0)
    stock: int = Field(default=0, ge=0)


class ProductUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    price: Money | None = Field(default=None, gt=0)
    stock: int | None = Field(default=None, ge=0)
    is_active: bool | None = None


class ProductRead(ORMModel):
    id: int
    sku: str
    name: str
    description: str | None
    price: Decimal
    stock: int
    is_active: bool


class ProductListing(ORMModel):
    id: int
    sku: str
    name: str
    price: Decimal
    stock: int


class ProductSuggestion(ORMModel):
    id: int
    name: str


class ProductImportResult(BaseModel):
    created: int
    updated: int


# Orders


class OrderItemIn(BaseModel):
    product_id: int
    quantity: int = Field(gt=0, le=100)


class OrderCreate(BaseModel):
    items: list[OrderItemIn] = Field(min_length=1, max_length=50)


class OrderItemRead(ORMModel):
    product_id: int
    quantity: int
    unit_price: Decimal


class OrderRead(ORMModel):
    id: int
    user_id: int
    status: OrderStatus
    total: Decimal
    currency: str
    placed_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None
    items: list[OrderItemRead]


# Payments


class PaymentResult(BaseModel):
    reference: str
    status: Literal["pending", "succeeded", "failed"]


class PaymentEvent(BaseModel):
    id: str
    type: Literal["charge.succeeded", "charge.failed", "charge.refunded"]
    order_id: int
    payment_reference: str
    amount: Decimal
    created_at: datetime


class SettlementExport(BaseModel):
    day: date
    batch_id: str
    order_count: int


# Reports


class DailySalesReport(BaseModel):
    day: date
    order_count: int
    revenue: Decimal
    currency: str
