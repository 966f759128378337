"""REST: orders and unknown products."""

from ninja import Router

router = Router(tags=["orders"])
unknown_products_router = Router(tags=["unknown products"])
