from ecbridge.sandbox.base import PlatformSandbox


class ShopeeSandbox(PlatformSandbox):
    code = "shopee"
    name = "Shopee"

    def register_routes(self, bp):
        pass
