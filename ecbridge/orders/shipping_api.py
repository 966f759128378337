"""REST: mark an order shipped (the shipment report to the platform follows as a job)."""

from ninja import Router

router = Router(tags=["orders"])
