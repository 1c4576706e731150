from django.contrib import admin

from .models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["title"]
