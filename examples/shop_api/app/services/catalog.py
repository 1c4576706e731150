import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product

logger = logging.getLogger(__name__)


async def import_products(session: AsyncSession, payload: dict[str, Any]) -> dict[str, int]:
    """Create or update products from the supplier feed, matched on SKU."""
    rows = payload.get("products", [])
    skus = {row["sku"] for row in rows}
    result = await session.scalars(select(Product).where(Product.sku.in_(skus)))
    existing = {product.sku: product for product in result}

    created = updated = 0
    for row in rows:
        price = Decimal(str(row["price"]))
        stock = int(row.get("stock", 0))
        product = existing.get(row["sku"])
        if product is None:
            session.add(
                Product(
                    sku=row["sku"],
                    name=row["name"],
                    description=row.get("description"),
                    price=price,
                    stock=stock,
                )
            )
            created += 1
        else:
            product.name = row["name"]
            product.price = price
            product.stock = stock
            updated += 1

    await session.commit()
    logger.info("catalogue import: %d created, %d updated", created, updated)
    return {"created": created, "updated": updated}
