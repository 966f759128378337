from ecbridge.sandbox.base import PlatformSandbox


class MomoSandbox(PlatformSandbox):
    code = "momo"
    name = "Momo"

    def register_routes(self, bp):
        pass
