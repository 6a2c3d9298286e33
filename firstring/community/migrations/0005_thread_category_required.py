"""Every thread has a category (0004 gave existing ones theirs); apart from 0004 so PostgreSQL alters
the table in a transaction without the data migration's pending constraint checks."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0004_categories"),
    ]

    operations = [
        migrations.AlterField(
            model_name="thread",
            name="category",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="threads", to="community.category"
            ),
        ),
    ]
