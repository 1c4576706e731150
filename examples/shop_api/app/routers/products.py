from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from app.db import DbSession
from app.dependencies import AdminUser
from app.models import Product
from app.repositories import products as product_repo
from app.schemas import (
    ProductCreate,
    ProductListing,
    ProductRead,
    ProductSuggestion,
    ProductUpdate,
)

router = APIRouter(prefix="/products", tags=["products"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


@router.get("", response_model=list[ProductRead])
async def list_products(db: DbSession, limit: Limit = 20, offset: Offset = 0) -> Sequence[Product]:
    return await product_repo.list_products(db, limit=limit, offset=offset)


@router.get("/search", response_model=list[ProductListing])
async def search_products(
    db: DbSession,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    sort: str = "name",
    limit: Limit = 50,
) -> list[Any]:
    return await product_repo.search_products(db, q, sort=sort, limit=limit)


@router.get("/suggest", response_model=list[ProductSuggestion])
async def suggest_products(
    db: DbSession,
    prefix: Annotated[str, Query(min_length=1, max_length=50)],
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> list[Any]:
    return await product_repo.suggest_products(db, prefix, limit=limit)


@router.get("/low-stock", response_model=list[ProductListing])
async def low_stock(db: DbSession, _admin: AdminUser) -> list[Any]:
    return await product_repo.low_stock_products(db)


@router.get("/{product_id}", response_model=ProductRead)
async def get_product(product_id: int, db: DbSession) -> Product:
    product = await product_repo.get_product(db, product_id)
    if product is None or not product.is_active:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Product not found")
    return product


@router.post("", response_model=ProductRead, status_code=status.HTTP_201_CREATED)
async def create_product(data: ProductCreate, db: DbSession, _admin: AdminUser) -> Product:
    try:
        return await product_repo.create_product(db, data)
    except product_repo.DuplicateSkuError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc


@router.patch("/{product_id}", response_model=ProductRead)
async def update_product(
    product_id: int, data: ProductUpdate, db: DbSession, _admin: AdminUser
) -> Product:
    product = await product_repo.get_product(db, product_id)
    if product is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Product not found")
    return await product_repo.update_product(db, product, data)
