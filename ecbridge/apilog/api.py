from ninja import Router

router = Router(tags=["API logs"])
