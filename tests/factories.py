import factory
from factory.django import DjangoModelFactory

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.inventory.models import InventoryType
from ecbridge.tenancy.models import Merchant, User

PASSWORD = "pass-1234-word"


class MerchantFactory(DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Merchant {n}")
    code = factory.Sequence(lambda n: f"m{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = "operator"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def inventory_type(code="good"):
    return InventoryType.objects.get(code=code)


def shipping_type(code="tcat_home"):
    return ShippingType.objects.get(code=code)


class SalesChannelFactory(DjangoModelFactory):
    class Meta:
        model = SalesChannel

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Channel {n}")
    primary_inventory_type = factory.LazyFunction(inventory_type)
    default_shipping_type = factory.LazyFunction(shipping_type)


class ECAccountFactory(DjangoModelFactory):
    """An EC account. ``credentials``/``tokens`` are stored encrypted like the real thing."""

    class Meta:
        model = "integrations.ECAccount"
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    sales_channel = factory.LazyAttribute(lambda o: SalesChannelFactory(merchant=o.merchant))
    platform = "momo"
    display_name = factory.Sequence(lambda n: f"Store {n}")
    status = "connected"

    @factory.post_generation
    def credentials(obj, create, extracted, **kwargs):
        values = extracted
        if values is None and obj.platform == "momo":
            values = {
                "entp_id": "12345678",
                "entp_code": "123456",
                "entp_pwd": "S3cret-pass!",
                "otp_back_no": "789",
            }
        if values is None and obj.platform == "shopify":
            values = {"shop_domain": f"{obj.display_name.lower().replace(' ', '-')}.myshopify.com"}
        obj.set_credentials(values or {})
        if create:
            obj.save()

    @factory.post_generation
    def tokens(obj, create, extracted, **kwargs):
        if extracted:
            obj.set_tokens(extracted)
            if create:
                obj.save()
