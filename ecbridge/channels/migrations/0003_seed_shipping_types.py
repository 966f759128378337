from django.db import migrations

# The warehouse's shipping types (Taiwan carriers and convenience-store pickup networks).
TYPES = [
    ("tcat_home", "T-Cat home delivery (黑貓宅急便)", "home_delivery", "T-Cat", 10),
    ("hct_home", "HCT home delivery (新竹物流)", "home_delivery", "HCT", 20),
    ("pelican_home", "Pelican home delivery (宅配通)", "home_delivery", "Pelican", 30),
    ("kerry_home", "Kerry TJ home delivery (嘉里大榮)", "home_delivery", "Kerry TJ", 40),
    ("post_home", "Chunghwa Post (中華郵政)", "home_delivery", "Chunghwa Post", 50),
    ("seven_pickup", "7-ELEVEN pickup", "cvs_pickup", "7-ELEVEN", 60),
    ("family_pickup", "FamilyMart pickup (全家)", "cvs_pickup", "FamilyMart", 70),
    ("hilife_pickup", "Hi-Life pickup (萊爾富)", "cvs_pickup", "Hi-Life", 80),
    ("ok_pickup", "OK Mart pickup", "cvs_pickup", "OK Mart", 90),
    ("tcat_chilled", "T-Cat chilled (黑貓冷藏)", "cold_chain", "T-Cat", 100),
    ("tcat_frozen", "T-Cat frozen (黑貓冷凍)", "cold_chain", "T-Cat", 110),
    ("store_pickup", "Warehouse pickup (自取)", "other", "", 120),
]


def seed(apps, schema_editor):
    ShippingType = apps.get_model("channels", "ShippingType")
    for code, name, kind, carrier, order in TYPES:
        ShippingType.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "carrier": carrier, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("channels", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
