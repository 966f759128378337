"""The header merchant switcher: an operator may narrow every list to one merchant."""

SESSION_KEY = "current_merchant_id"


class MerchantContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.current_merchant = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            merchant_id = request.session.get(SESSION_KEY)
            if merchant_id:
                request.current_merchant = user.merchants().filter(pk=merchant_id).first()
                if request.current_merchant is None:
                    request.session.pop(SESSION_KEY, None)
        return self.get_response(request)
