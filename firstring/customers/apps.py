from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "firstring.customers"
    label = "customers"
    verbose_name = "Customers"
