from ninja import Router

router = Router(tags=["EC accounts"])
platforms_router = Router(tags=["platforms"])
