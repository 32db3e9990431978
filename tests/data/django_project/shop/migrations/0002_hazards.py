from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="customer", name="nickname"),
        migrations.AddField(
            model_name="customer",
            name="email",
            field=models.CharField(max_length=100),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["customer_ref"], name="order_customer_idx"),
        ),
        migrations.RunSQL("DELETE FROM shop_order", reverse_sql=migrations.RunSQL.noop),
    ]
