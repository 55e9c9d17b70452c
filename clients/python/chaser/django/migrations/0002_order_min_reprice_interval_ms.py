# The tables are Chaser's (managed = False): migrate records this and changes nothing; Chaser's own migration 6 adds
# the column.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chaser', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='deadline_action',
            field=models.TextField(default='cancel', help_text='cancel: cancel and expire at the deadline; take: then take the remainder with a market order.'),
        ),
        migrations.AddField(
            model_name='order',
            name='min_reprice_interval_ms',
            field=models.BigIntegerField(help_text="This order's least time between two re-pricing requests; null: the engine's.", null=True),
        ),
    ]
