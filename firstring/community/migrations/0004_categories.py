"""Community categories; every existing thread goes to a "General" category of its help center."""

import django.db.models.deletion
from django.db import migrations, models


def threads_to_general(apps, schema_editor):
    # The same category services.category_default makes for a help center's first thread.
    Category = apps.get_model("community", "Category")
    Thread = apps.get_model("community", "Thread")
    for center_id in Thread.objects.values_list("help_center_id", flat=True).distinct().order_by():
        category, _ = Category.objects.get_or_create(
            help_center_id=center_id, slug="general", defaults={"name": "General"}
        )
        Thread.objects.filter(help_center_id=center_id, category__isnull=True).update(category=category)


class Migration(migrations.Migration):

    dependencies = [
        ('community', '0003_bridges_insights_merge'),
        ('knowledge', '0002_full_text_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='Category',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(max_length=80)),
                ('name', models.CharField(max_length=120)),
                ('description', models.CharField(blank=True, max_length=300)),
                ('position', models.PositiveIntegerField(default=0)),
                ('help_center', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='community_categories', to='knowledge.helpcenter')),
            ],
            options={
                'verbose_name_plural': 'categories',
                'ordering': ('position', 'name', 'id'),
            },
        ),
        migrations.AddField(
            model_name='thread',
            name='category',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='threads', to='community.category'),
        ),
        migrations.RunPython(threads_to_general, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='thread',
            index=models.Index(fields=['category', 'hidden_at', '-last_activity_at'], name='community_thread_category'),
        ),
        migrations.AddConstraint(
            model_name='category',
            constraint=models.UniqueConstraint(fields=('help_center', 'slug'), name='community_category_unique_slug'),
        ),
    ]
