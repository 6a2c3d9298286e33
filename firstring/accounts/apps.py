from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "firstring.accounts"
    label = "accounts"
    verbose_name = "Accounts"
