from django.contrib import admin

from peermentor.accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "is_org_admin", "is_active"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_org_admin", "is_active"]
    exclude = ["password"]
