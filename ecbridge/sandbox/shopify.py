from ecbridge.sandbox.base import PlatformSandbox


class ShopifySandbox(PlatformSandbox):
    code = "shopify"
    name = "Shopify"

    def register_routes(self, bp):
        pass
