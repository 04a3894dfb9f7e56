from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "peermentor.accounts"
    label = "accounts"
    verbose_name = "Accounts"
