from django.db import migrations

TYPES = [
    ("good", "Good stock", True, 10),
    ("near_expiry", "Near expiry", True, 20),
    ("damaged", "Damaged", False, 30),
    ("returned", "Returned", False, 40),
]


def seed(apps, schema_editor):
    InventoryType = apps.get_model("inventory", "InventoryType")
    for code, name, sellable, order in TYPES:
        InventoryType.objects.get_or_create(code=code, defaults={"name": name, "sellable": sellable, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
