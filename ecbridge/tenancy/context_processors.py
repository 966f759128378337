def merchant_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    merchants = list(user.merchants())
    return {
        "multi_merchant": len(merchants) > 1,
        "switchable_merchants": merchants,
        "current_merchant": getattr(request, "current_merchant", None),
    }
