from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=50)
    email = models.CharField(max_length=100)


class Order(models.Model):
    customer_ref = models.IntegerField()
    status = models.CharField(max_length=20, null=True)

    class Meta:
        indexes = [models.Index(fields=["customer_ref"], name="order_customer_idx")]
