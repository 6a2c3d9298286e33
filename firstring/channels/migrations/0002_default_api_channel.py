from django.db import migrations


def create_api_channel(apps, schema_editor):
    Channel = apps.get_model("firstring_channels", "Channel")
    Channel.objects.get_or_create(slug="api", defaults={"kind": "api", "name": "API"})


class Migration(migrations.Migration):
    dependencies = [("firstring_channels", "0001_initial")]
    operations = [migrations.RunPython(create_api_channel, migrations.RunPython.noop)]
