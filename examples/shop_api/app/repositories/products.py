from collections.abc import Sequence

from sqlalchemy import RowMapping, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product
from app.schemas import ProductCreate, ProductUpdate

LISTING_COLUMNS = "id, sku, name, price, stock"
LOW_STOCK_THRESHOLD = 5


class DuplicateSkuError(Exception):
    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with SKU {sku!r} already exists")
        self.sku = sku


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def get_product(session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


async def get_products_by_ids(session: AsyncSession, product_ids: set[int]) -> dict[int, Product]:
    result = await session.scalars(
        select(Product).where(Product.id.in_(product_ids), Product.is_active.is_(True))
    )
    return {product.id: product for product in result}


async def list_products(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Product]:
    stmt = (
        select(Product)
        .where(Product.is_active.is_(True))
        .order_by(Product.name, Product.id)
        .limit(limit)
        .offset(offset)
    )
    result = await session.scalars(stmt)
    return result.all()


async def search_products(
    session: AsyncSession, term: str, sort: str = "name", limit: int = 50
) -> list[RowMapping]:
    sql = (
        f"SELECT {LISTING_COLUMNS} FROM products "
        f"WHERE is_active AND name ILIKE '%{term}%' "
        f"ORDER BY {sort} LIMIT {limit}"
    )
    result = await session.execute(text(sql))
    return list(result.mappings().all())


async def suggest_products(session: AsyncSession, prefix: str, limit: int = 10) -> list[RowMapping]:
    stmt = text(
        "SELECT id, name FROM products "
        "WHERE is_active AND name ILIKE :pattern "
        "ORDER BY name LIMIT :limit"
    )
    result = await session.execute(stmt, {"pattern": f"{_escape_like(prefix)}%", "limit": limit})
    return list(result.mappings().all())


async def low_stock_products(session: AsyncSession) -> list[RowMapping]:
    query = (
        f"SELECT {LISTING_COLUMNS} FROM products "
        f"WHERE is_active AND stock < {LOW_STOCK_THRESHOLD} "
        "ORDER BY stock, name"
    )
    result = await session.execute(text(query))
    return list(result.mappings().all())


async def create_product(session: AsyncSession, data: ProductCreate) -> Product:
    product = Product(**data.model_dump())
    session.add(product)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateSkuError(data.sku) from exc
    await session.refresh(product)
    return product


async def update_product(session: AsyncSession, product: Product, data: ProductUpdate) -> Product:
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(product, field, value)
    await session.commit()
    await session.refresh(product)
    return product
